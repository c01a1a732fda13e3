import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { accessSync, constants } from "node:fs";
import { delimiter, join, posix } from "node:path";
import { BuildFailure, displayUrl } from "./build-failure.js";
import type { BuildLog } from "./build-log.js";
import type { ManifestDocument } from "../store/documents.js";

/** Where an image keeps the manifest's environment files, apart from the app's own files. */
export const ENV_ROOT = "/var/azureml-env";

/** An image with conda on its PATH (the AzureML base images keep Miniconda there): the Dockerfile's base for manifests with a conda file. */
export const DEFAULT_CONDA_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04";

/** The environment files a manifest may name in `targetRuntime.properties`, and their names in the image. */
export const ENVIRONMENT_FILES = {
  pipRequirements: { file: "requirements.txt", env: "AML_PIP_REQUIREMENTS" },
  condaEnvFile: { file: "conda_dependencies.yml", env: "AML_CONDA_FILE" },
} as const;
type EnvironmentProperty = keyof typeof ENVIRONMENT_FILES;

/** The environment files of an image, by property, as paths inside the image. */
export type ImageEnvironment = Partial<Record<EnvironmentProperty, string>>;

/**
 * Packages of the 2017 runtime that projects pin (`azure-ml-api-sdk==0.1.0a10`,
 * `azureml.datacollector==0.1.0a13`): every image carries our own modules in their place, and
 * the old packages no longer install on today's Pythons, so their lines are commented out.
 */
const RUNTIME_PACKAGES = /^([ \t]*)(?:-[ \t]*)?((?:azure[-_.]ml[-_.]api[-_.]sdk|azureml[-_.]datacollector)\b.*)$/gim;
const MAX_ENVIRONMENT_FILE_BYTES = 1024 * 1024;
/** A conda pin of a Python older than the scoring server runs on (3.8). */
const OLD_PYTHON = /^([ \t]*-[ \t]*)python\s*=+\s*(2(\.\d+)*|3\.[0-7](\.\d+)*)\s*$/gim;

/** A property's value: the id of one of the manifest's assets, or a URL of the file. */
function isAssetReference(manifest: Pick<ManifestDocument, "assets">, value: string): boolean {
  return manifest.assets.some((a) => a.id === value);
}

/**
 * Gathers the manifest's pip requirements and conda file into `envDir` (a property names an
 * asset, already in `appDir`, or a URL, fetched now), edited for this runtime: the 2017 runtime
 * packages and too-old Python pins are commented out, saying so in the build log.
 */
export async function gatherEnvironmentFiles(
  manifest: ManifestDocument,
  appDir: string,
  envDir: string,
  download: (url: string, what: string, target: string) => Promise<number>,
  log: BuildLog,
): Promise<ImageEnvironment> {
  const image: ImageEnvironment = {};
  for (const property of Object.keys(ENVIRONMENT_FILES) as EnvironmentProperty[]) {
    const value = manifest.targetRuntime.properties[property];
    if (!value) continue;
    const { file } = ENVIRONMENT_FILES[property];
    const target = join(envDir, file);
    await mkdir(envDir, { recursive: true });
    if (isAssetReference(manifest, value)) {
      await copyFile(join(appDir, value), target).catch(() => {
        throw new BuildFailure(
          "RuntimeFileNotFound",
          `targetRuntime.properties.${property} names the asset "${value}", which is not a file in the build (was it an archive?).`,
        );
      });
    } else {
      await log.step(
        `${property}: fetch ${displayUrl(value)}`,
        () => download(value, `targetRuntime.properties.${property}`, target),
        (s) => s,
      );
    }
    if ((await stat(target)).size > MAX_ENVIRONMENT_FILE_BYTES)
      throw new BuildFailure(
        "RuntimeFileTooLarge",
        `targetRuntime.properties.${property} is over 1 MiB: that is not a requirements or conda file.`,
      );
    const original = await readFile(target, "utf8");
    const edited = editForThisRuntime(original, property, log);
    if (edited !== original) await writeFile(target, edited);
    image[property] = posix.join(ENV_ROOT, file);
  }
  return image;
}

/** The file with the lines that cannot work here commented out, each one logged. */
function editForThisRuntime(text: string, property: EnvironmentProperty, log: BuildLog): string {
  let edited = text.replace(RUNTIME_PACKAGES, (line, indent: string, requirement: string) => {
    log.line(`${property}: "${line.trim()}" commented out: every image has the 2017 runtime modules (azureml.*) already`);
    return `${indent}# provided by the service: ${requirement.trim()}`;
  });
  if (property === "condaEnvFile") {
    edited = edited.replace(OLD_PYTHON, (line, indent: string) => {
      log.line(
        `${property}: "${line.trim()}" commented out: the scoring server needs Python 3.8 or later, so the environment gets conda's default Python`,
      );
      return `${indent.replace("-", "#")}${line.trim()} (older than the scoring server needs)`;
    });
  }
  return edited;
}

/** The conda front ends that can create an environment from a conda file, the fastest first. */
const CONDA_TOOLS = ["micromamba", "mamba", "conda"] as const;

/** The first conda front end on a PATH, or undefined. */
export function findCondaTool(path: string | undefined): { name: (typeof CONDA_TOOLS)[number]; path: string } | undefined {
  for (const name of CONDA_TOOLS) {
    for (const dir of (path ?? "").split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return { name, path: candidate };
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
