import { statSync } from "node:fs";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { Command, Option } from "commander";
import { contextOf, type Context } from "../context.js";
import { addDeleteCommand } from "./delete.js";
import { CliError, EXIT } from "../errors.js";
import { upload } from "../upload.js";
import { registerModelFile } from "./models.js";
import { MANIFEST_VIEW } from "./views.js";
import { collect, positiveInt } from "./options.js";

/** The 2017 flags that describe a manifest's files: `-f score.py -r python [-c] [-d …] [-s] [-p]`. */
export interface ManifestFileOptions {
  file?: string;
  runtime?: string;
  conda?: string;
  dependency: string[];
  schema?: string;
  pipRequirements?: string;
}

const RUNTIMES: Record<string, string> = { python: "Python", "spark-py": "SparkPython" };
/** The schema file's name inside the image: what the scoring server serves Swagger from. */
const SCHEMA_ASSET = "service_schema.json";

export function addManifestFileOptions(command: Command, required: boolean): Command {
  const hint = required ? "" : " (with -m, instead of an id)";
  return command
    .option("-f, --file <score.py>", `the driver program: defines init() and run(input)${hint}`)
    .addOption(new Option("-r, --runtime <runtime>", `the runtime${hint}`).choices(Object.keys(RUNTIMES)))
    .option("-c, --conda <conda.yml>", "a conda environment file")
    .option(
      "-d, --dependency <path>",
      "a file or folder the driver needs, beside it under the same relative path (repeat for more; a folder keeps its name)",
      collect,
      [],
    )
    .option("-s, --schema <schema.json>", "the service's input/output schema (served as swagger.json)")
    .option("-p, --pip-requirements <requirements.txt>", "a pip requirements file");
}

/** Uploads a driver and its dependencies and creates a manifest over the given models. */
export async function createManifestFromFiles(
  ctx: Context,
  name: string,
  files: ManifestFileOptions,
  modelIds: string[],
  description?: string,
): Promise<{ id: string; name: string; version: number }> {
  if (!files.file || !files.runtime) throw new CliError("A manifest needs its driver and runtime: -f <score.py> -r python.", EXIT.usage);
  const assets: { id: string; mimeType: string; url: string; unpack?: boolean }[] = [];
  const properties: Record<string, string> = {};
  const add = async (path: string, id?: string, options: { keepFolderName?: boolean } = {}): Promise<string> => {
    const uploaded = await upload(ctx.blobs(), ctx.accountPath, path, ctx.verbose, options);
    const assetId = id ?? basename(new URL(uploaded.url).pathname);
    if (assets.some((a) => a.id === assetId))
      throw new CliError(`Two files would both be ${assetId} in the image; rename one of them.`, EXIT.usage);
    assets.push({ id: assetId, mimeType: uploaded.mimeType, url: uploaded.url, ...(uploaded.packed ? { unpack: true } : {}) });
    return assetId;
  };
  const driver = await add(files.file);
  if (files.conda) properties.condaEnvFile = await add(files.conda);
  if (files.pipRequirements) properties.pipRequirements = await add(files.pipRequirements);
  if (files.schema) await add(files.schema, SCHEMA_ASSET);
  // A dependency keeps the path it was given (`-d outputs/x.json` is outputs/x.json beside the
  // driver) and a folder its name, as with the 2017 CLI.
  for (const dependency of files.dependency) await add(dependency, dependencyFileId(dependency), { keepFolderName: true });
  const body = {
    name,
    ...(description ? { description } : {}),
    driverProgram: driver,
    assets,
    modelIds,
    modelType: "Registered",
    targetRuntime: { runtimeType: RUNTIMES[files.runtime], properties },
    webserviceType: "Realtime",
  };
  return (await ctx.api.call<{ id: string; name: string; version: number }>("POST", "manifests", { body })).body;
}

/** A dependency file's asset id: its path relative to here when it is below here, else its name. */
function dependencyFileId(path: string): string | undefined {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    return undefined; // upload says it is missing
  }
  if (!isFile) return undefined;
  const below = relative(process.cwd(), resolve(path)).split(sep).join("/");
  return below && !below.startsWith("../") && !isAbsolute(below) ? below : basename(path);
}

/** Model ids from `-i` (already registered) or `-m` (files registered now, named after the file). */
export async function modelIdsFrom(ctx: Context, ids: string[], modelFiles: string[]): Promise<string[]> {
  const registered: string[] = [];
  for (const path of modelFiles) {
    const model = await registerModelFile(ctx, path, { name: basename(path) });
    ctx.note(`Registered model ${model.name} version ${model.version} (${model.id}).`);
    registered.push(model.id);
  }
  return [...ids, ...registered];
}

export function manifestCommand(): Command {
  const manifest = new Command("manifest").description("Create, list, show and delete manifests (a driver, its files and models)");

  addManifestFileOptions(
    manifest
      .command("create")
      .description("Upload a driver and its files and create a manifest over registered models (-i) or model files (-m)")
      .requiredOption("-n, --name <name>", "the manifest's name"),
    true,
  )
    .option("-i, --model-id <id>", "a registered model (repeat for more)", collect, [])
    .option("-m, --model-file <path>", "a model file or folder to register and include (repeat for more)", collect, [])
    .option("--description <text>", "a description")
    .action(
      async (
        opts: ManifestFileOptions & { name: string; modelId: string[]; modelFile: string[]; description?: string },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        if (opts.modelId.length + opts.modelFile.length === 0)
          command.error("error: name the models: -i <model id> or -m <model file>", { exitCode: EXIT.usage });
        const ids = await modelIdsFrom(ctx, opts.modelId, opts.modelFile);
        ctx.print(await createManifestFromFiles(ctx, opts.name, opts, ids, opts.description), MANIFEST_VIEW);
      },
    );

  manifest
    .command("list")
    .description("List manifests, newest first")
    .option("-n, --name <name>", "only this manifest name")
    .option("--model-id <id>", "only manifests over this model")
    .option("--top <n>", "at most this many", positiveInt)
    .action(async (opts: { name?: string; modelId?: string; top?: number }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.list("manifests", { manifestName: opts.name, modelId: opts.modelId }, opts.top), MANIFEST_VIEW);
    });

  manifest
    .command("show")
    .description("Show a manifest")
    .requiredOption("-i, --id <id>", "the manifest's id")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.get(`manifests/${encodeURIComponent(opts.id)}`), MANIFEST_VIEW);
    });
  addDeleteCommand(manifest, "manifest", "manifests", "an image was built from it");
  return manifest;
}
