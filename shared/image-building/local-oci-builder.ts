import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { link, mkdir, readdir, rm, stat, writeFile, copyFile } from "node:fs/promises";
import { basename, join, posix, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Asset, ManifestDocument, ModelDocument } from "../store/documents.js";
import { BuildFailure, displayUrl } from "./build-failure.js";
import { formatBytes, type BuildLog } from "./build-log.js";
import { checkDriverCompiles } from "./driver-check.js";
import { fetchContent, guardedContent, headEtag, type DownloadLimits, type FetchedContent } from "./fetch-content.js";
import type { BuiltImage, ImageBuilder, ImageBuildRequest, ImageBuildResult, ImageOwner } from "./image-builder.js";
import { contextGroupOf, registryRepositoryOf, repositoryPrefixesOf } from "./image-names.js";
import { unpackArchive } from "./archive.js";
import {
  DEFAULT_CONDA_BASE_IMAGE,
  ENV_ROOT,
  ENVIRONMENT_FILES,
  findCondaTool,
  gatherEnvironmentFiles,
  type ImageEnvironment,
} from "./environment-files.js";
import { DEFAULT_SCHEMA_FILE, findServiceSchema } from "./service-schema-file.js";
import { writeLayer, type LayerFile } from "./oci/layer-writer.js";
import { OciLayout, type BuildInProgress } from "./oci/oci-layout.js";
import { LayerCache, type CachedLayer } from "./oci/layer-cache.js";
import { MEDIA, type LayerDescriptor } from "./oci/media-types.js";
import { deleteFromRegistry, pushToRegistry } from "./oci/registry-push.js";
import type { UrlGuard } from "./url-guard.js";
import type { OwnBlobReader } from "./own-blob-reader.js";

type OpenContent = (url: string, what: string) => Promise<FetchedContent>;

const APP_ROOT = "/var/azureml-app";
const SERVER_ROOT = "/var/azureml-server";
const SCORING_PORT = 5001;

interface LocalOciBuilderOptions {
  /**
   * Where images live: `<dir>/oci` (the OCI layout), `<dir>/layer-cache` (models layers by what
   * they were made from), `<dir>/contexts/<owner>/<imageId>` (Dockerfile contexts), `<dir>/work` (scratch).
   */
  imagesDir: string;
  /** The scoring server's directory (scoring/ of this project). */
  scoringServerDir: string;
  /** The base image recorded in the config and used by the Dockerfile, e.g. python:3.11-slim. */
  baseImage: string;
  /** The Dockerfile's base image when the manifest has a conda file: one with conda on its PATH. */
  condaBaseImage?: string;
  /** The interpreter that checks drivers compile. */
  python: string;
  guard: UrlGuard;
  /** Reads model and asset URLs that point into the app's own storage account with its identity. */
  ownBlobs?: OwnBlobReader;
  registry?: { host: string; plainHttp: boolean };
  /** The most a build fetches of one model or asset, and how long it waits for the next byte of it. */
  downloads: DownloadLimits;
}

/**
 * Builds images with no Docker daemon: fetches the manifest's assets and models through the URL
 * guard, checks the driver compiles, and writes a reproducible OCI image (scoring server, app,
 * models: one layer each) into an OCI layout, pushes it when a registry is configured, and keeps
 * the same build as a Dockerfile context for ACR Tasks.
 */
export class LocalOciBuilder implements ImageBuilder {
  readonly layout: OciLayout;
  readonly #layerCache: LayerCache;
  #leftoversRemoved: Promise<void> | undefined;

  constructor(private readonly options: LocalOciBuilderOptions) {
    this.layout = new OciLayout(join(options.imagesDir, "oci"));
    this.#layerCache = new LayerCache(join(options.imagesDir, "layer-cache"));
  }

  async build(request: ImageBuildRequest): Promise<ImageBuildResult> {
    const { log, manifest } = request;
    await this.layout.init();
    this.#leftoversRemoved ??= this.#removeLeftovers();
    await this.#leftoversRemoved;
    const build = this.layout.startBuild();
    const work = join(this.options.imagesDir, "work", `${request.imageId}-${randomUUID().slice(0, 8)}`);
    const appDir = join(work, "app");
    const modelsDir = join(work, "models");
    await mkdir(appDir, { recursive: true });
    await mkdir(modelsDir, { recursive: true });
    const open: OpenContent = (url, what) => this.#open(url, what, request);
    try {
      log.line(
        `Building image ${request.imageName}:${request.version} from manifest ${manifest.name} v${manifest.version} (${manifest.id})`,
      );
      for (const asset of [...manifest.assets].sort((a, b) => (a.id < b.id ? -1 : 1)))
        await this.#fetchAsset(asset, appDir, work, log, open);
      const driverPath = join(appDir, safeRelative(manifest.driverProgram, "driver program"));
      if (!existsSync(driverPath))
        throw new BuildFailure(
          "DriverNotFound",
          `The driver ${manifest.driverProgram} is not in the build (was its asset an archive without it?).`,
        );
      await log.step(`check driver ${manifest.driverProgram} compiles (${this.options.python} -m py_compile)`, () =>
        checkDriverCompiles(this.options.python, driverPath, manifest.driverProgram, join(work, "pycache")),
      );

      const environment = await gatherEnvironmentFiles(
        manifest,
        appDir,
        join(work, "env"),
        (url, what, target) => this.#download(open, url, what, target),
        log,
      );
      const schema = await findServiceSchema(appDir);
      if (schema) {
        log.line(
          `schema: ${schema.path} (run() arguments: ${schema.inputs.map((i) => `${i.name} ${i.type}`).join(", ") || "none"})${schema.others.length ? `; also found, not used: ${schema.others.join(", ")}` : ""}`,
        );
      }
      const image: ImageSettings = { environment, ...(schema ? { schemaFile: schema.path } : {}) };
      this.#logEnvironmentNotes(environment, log);

      const appFiles = [...(await filesUnder(appDir, APP_ROOT.slice(1))), ...(await filesUnder(join(work, "env"), ENV_ROOT.slice(1)))];
      const serverFiles = await filesUnder(this.options.scoringServerDir, SERVER_ROOT.slice(1), (name) => name.endsWith(".py"));

      const blobs = this.layout.blobsDir;
      const layers: LayerDescriptor[] = [];
      layers.push(
        await log.step(
          "layer 1/3: scoring server",
          () => writeLayer(serverFiles, blobs),
          (l) => describeLayer(l),
        ),
      );
      layers.push(
        await log.step(
          "layer 2/3: driver and assets",
          () => writeLayer(appFiles, blobs),
          (l) => describeLayer(l),
        ),
      );
      const models = await this.#modelsLayer(request, build, modelsDir, work, log, open);
      const taken = new Set(appFiles.map((f) => f.path));
      const clash = models.paths.find((path) => taken.has(path));
      if (clash) throw new BuildFailure("FileConflict", `A model and an asset would both be /${clash}; rename one of them.`);
      layers.push(models.layer);

      const config = await this.layout.putJson(MEDIA.config, this.#config(request, image, layers));
      const imageManifest = await this.layout.putJson(MEDIA.manifest, {
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      });
      const repository = registryRepositoryOf(request, request.imageName);
      const ref = `${repository}:${request.version}`;
      await this.layout.tag(imageManifest, ref);
      log.line(`image ${ref}: manifest ${imageManifest.digest} in the OCI layout ${this.layout.dir}`);
      await log.step("Dockerfile build context", () => this.#writeContext(request, image, layers));

      let imageLocation = `oci:${this.layout.dir}:${ref}`;
      const registry = this.options.registry;
      if (registry) {
        await log.step(`push to ${registry.host}`, () =>
          pushToRegistry({
            registry: registry.host,
            plainHttp: registry.plainHttp,
            repository,
            tag: String(request.version),
            manifest: imageManifest,
            blobs: [config, ...layers].map((d) => ({ descriptor: d, path: this.layout.blobPath(d.digest) })),
          }),
        );
        imageLocation = `${registry.host}/${ref}`;
      }
      log.line(`done: ${imageLocation} (${imageManifest.digest})`);
      return { imageLocation, digest: imageManifest.digest };
    } finally {
      build.end();
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Removes what the builds of a deleted image left: its name in the OCI layout (and the blobs no
   * other image uses any more), its Dockerfile context, and its manifest in the registry, unless
   * another tag of the same repository names the same manifest (identical builds share one: the
   * registry API deletes manifests, not tags).
   */
  async remove(image: BuiltImage): Promise<string[]> {
    await this.layout.init();
    const ref = this.#refOf(image) ?? `${registryRepositoryOf(image, image.imageName)}:${image.version}`;
    const refs = await this.layout.refs();
    const notes = await this.#removeRef(ref, image.digest ?? refs.find((r) => r.ref === ref)?.digest, refs);
    await rm(this.contextDir(image, image.imageId), { recursive: true, force: true });
    return [...notes, await this.#collect()];
  }

  /**
   * Removes every image of a deleted account's incarnation: each name its repositories have in
   * the OCI layout (with its registry manifest), and its Dockerfile contexts.
   */
  async removeAll(owner: ImageOwner): Promise<string[]> {
    await this.layout.init();
    const prefixes = repositoryPrefixesOf(owner);
    const refs = await this.layout.refs();
    const notes: string[] = [];
    for (const { ref, digest } of refs.filter((r) => prefixes.some((p) => r.ref.startsWith(p)))) {
      // The others of the same account go too: no twin of theirs need keep a manifest.
      notes.push(...(await this.#removeRef(ref, digest, [])));
    }
    await rm(join(this.options.imagesDir, "contexts", contextGroupOf(owner)), { recursive: true, force: true });
    return [...notes, await this.#collect()];
  }

  /**
   * Deletes a ref's manifest from the registry, unless another tag of the same repository (in
   * `refs`) names the same manifest (identical builds share one, and the registry API deletes
   * manifests, not tags), then untags it in the layout. The layout goes last: it is the record of
   * what was pushed, so a removal cut short (the registry down) is found again and finished.
   */
  async #removeRef(ref: string, digest: string | undefined, refs: { ref: string; digest: string }[]): Promise<string[]> {
    const registry = this.options.registry;
    const repository = ref.slice(0, ref.lastIndexOf(":"));
    const twin = refs.find((r) => r.ref !== ref && r.digest === digest && r.ref.startsWith(`${repository}:`));
    let note = `${ref} removed`;
    if (registry && digest && twin) note += `; the registry keeps manifest ${digest}: ${twin.ref} names it too`;
    else if (registry && digest) {
      await deleteFromRegistry({ registry: registry.host, plainHttp: registry.plainHttp, repository, digest });
      note += `, and ${registry.host}/${repository}@${digest}`;
    }
    await this.layout.untag(ref);
    return [note];
  }

  async #collect(): Promise<string> {
    const collected = await this.layout.collectGarbage();
    await this.#layerCache.prune((digest) => existsSync(this.layout.blobPath(digest)));
    return `OCI layout: ${collected.removed} unused blobs removed (${formatBytes(collected.bytes)})`;
  }

  /** The layout ref an image's location names (`oci:<layout>:<ref>` or `<registry>/<ref>`), when it names one. */
  #refOf(image: BuiltImage): string | undefined {
    const location = image.imageLocation;
    if (!location) return undefined;
    const oci = `oci:${this.layout.dir}:`;
    if (location.startsWith(oci)) return location.slice(oci.length);
    const registry = this.options.registry;
    if (registry && location.startsWith(`${registry.host}/`)) return location.slice(registry.host.length + 1);
    return undefined;
  }

  /**
   * What builds cut short by a crash left behind: half-written layers and scratch directories.
   * Removed before this process's first build, so none of its own can be in the way.
   */
  async #removeLeftovers(): Promise<void> {
    const blobs = this.layout.blobsDir;
    const halfWritten = (await readdir(blobs).catch(() => [] as string[])).filter((n) => n.startsWith(".tmp-"));
    await Promise.all(halfWritten.map((n) => rm(join(blobs, n), { force: true })));
    await this.#layerCache.removeLeftovers();
    await rm(join(this.options.imagesDir, "work"), { recursive: true, force: true });
  }

  /** Blobs of the app's own storage are read with its identity; anything else through the URL guard. */
  async #open(url: string, what: string, account: Pick<ImageBuildRequest, "accountPath" | "accountCreatedAt">): Promise<FetchedContent> {
    const own = this.options.ownBlobs;
    const content = own?.owns(url)
      ? await own.open(url, what, account.accountPath, account.accountCreatedAt)
      : await fetchContent(this.options.guard, url, what);
    return guardedContent(content, what, url, this.options.downloads);
  }

  /** The Dockerfile context of an image: `<imagesDir>/contexts/<its owner's group>/<imageId>`. */
  contextDir(owner: ImageOwner, imageId: string): string {
    return join(this.options.imagesDir, "contexts", contextGroupOf(owner), imageId);
  }

  async #fetchAsset(asset: Asset, appDir: string, work: string, log: BuildLog, open: OpenContent): Promise<void> {
    const what = `asset ${asset.id}`;
    if (asset.unpack) return this.#fetchAndUnpack(asset.url, what, appDir, work, log, open);
    const target = join(appDir, safeRelative(asset.id, what));
    await mkdir(join(target, ".."), { recursive: true });
    await log.step(
      `${what}: fetch ${displayUrl(asset.url)}`,
      () => this.#download(open, asset.url, what, target),
      (s) => s,
    );
  }

  /** An archive (`unpack: true`): downloaded to scratch space, unpacked into `dest`, then dropped. */
  async #fetchAndUnpack(url: string, what: string, dest: string, work: string, log: BuildLog, open: OpenContent): Promise<void> {
    const archive = join(work, `download-${randomUUID()}`);
    await log.step(
      `${what}: fetch ${displayUrl(url)}`,
      () => this.#download(open, url, what, archive),
      (s) => s,
    );
    await log.step(`${what}: unpack`, () => unpackArchive(archive, dest, what));
    await rm(archive, { force: true });
  }

  async #download(open: OpenContent, url: string, what: string, target: string): Promise<number> {
    const content = await open(url, what);
    try {
      await pipeline(content.body, createWriteStream(target));
    } catch (err) {
      if (err instanceof BuildFailure) throw err;
      throw new BuildFailure(
        "ContentUnavailable",
        `Could not fetch ${what} from ${displayUrl(url)}: ${err instanceof Error ? err.message : String(err)}.`,
      );
    }
    return (await stat(target)).size;
  }

  /**
   * The models layer: reused when a layer was made from the same models with the same content
   * (each model's ETag, asked before anything is fetched), written otherwise, and then remembered
   * under the ETags of the bytes that were actually read, when they are the ones asked for (a
   * blob written again in between is not remembered under its old ETag).
   */
  async #modelsLayer(
    request: ImageBuildRequest,
    build: BuildInProgress,
    modelsDir: string,
    work: string,
    log: BuildLog,
    open: OpenContent,
  ): Promise<CachedLayer> {
    const models = [...request.models].sort((a, b) => (a.id < b.id ? -1 : 1));
    const etags = await Promise.all(models.map((m) => this.#etag(m.url, request)));
    const missing = models.findIndex((_, i) => etags[i] === undefined);
    const key =
      missing === -1
        ? LayerCache.keyOf(["models-layer/1", ...models.map((m, i) => [m.id, m.unpack ?? false, modelFileName(m), etags[i]])])
        : undefined;
    const cached = key ? await this.#layerCache.get(key) : undefined;
    if (cached && (await build.reuse(cached.layer.digest))) {
      log.line(`layer 3/3: models: reused, the same models with the same content (${describeLayer(cached.layer)})`);
      return cached;
    }
    if (missing !== -1 && models.length > 0)
      log.line(`layer 3/3: models: ${displayUrl(models[missing]!.url)} gives no ETag, so this layer is not cached`);
    const read = new Map<string, string | undefined>();
    const openModel: OpenContent = async (url, what) => {
      const content = await open(url, what);
      read.set(url, content.etag);
      return content;
    };
    const files = await this.#modelFiles(models, modelsDir, work, log, openModel);
    const layer = await log.step(
      "layer 3/3: models",
      () => writeLayer(files, this.layout.blobsDir),
      (l) => describeLayer(l),
    );
    const written = { layer, paths: files.map((f) => f.path) };
    if (key && models.every((m, i) => read.get(m.url) === etags[i])) await this.#layerCache.put(key, written);
    return written;
  }

  /** A model's ETag, asked of its origin without fetching it (undefined: it has none to give). */
  #etag(url: string, account: Pick<ImageBuildRequest, "accountPath" | "accountCreatedAt">): Promise<string | undefined> {
    const own = this.options.ownBlobs;
    return own?.owns(url) ? own.etag(url, account.accountPath, account.accountCreatedAt) : headEtag(this.options.guard, url);
  }

  /**
   * The models layer's files. A model to unpack is downloaded and unpacked first; any other is
   * streamed from its URL straight into the layer (when its size is announced), so a 1 GB model
   * is read once and never stored twice.
   */
  async #modelFiles(models: ModelDocument[], modelsDir: string, work: string, log: BuildLog, open: OpenContent): Promise<LayerFile[]> {
    const files: LayerFile[] = [];
    for (const model of models) {
      const what = `model ${model.name} v${model.version}`;
      if (model.unpack) {
        await this.#fetchAndUnpack(model.url, what, modelsDir, work, log, open);
        continue;
      }
      const name = modelFileName(model);
      const path = `${APP_ROOT.slice(1)}/${name}`;
      if (files.some((f) => f.path === path))
        throw new BuildFailure("FileConflict", `Two models would both be /${path}; register them from URLs with different file names.`);
      files.push({
        path,
        open: async () => {
          const started = Date.now();
          const content = await open(model.url, what);
          if (content.size !== undefined) {
            content.body.once("end", () =>
              log.line(`${what}: streamed ${formatBytes(content.size!)} from ${displayUrl(model.url)} in ${Date.now() - started} ms`),
            );
            return { stream: content.body, size: content.size };
          }
          // No Content-Length: a tar header needs the size first, so take the file to disk.
          const local = join(work, `model-${randomUUID()}`);
          await pipeline(content.body, createWriteStream(local));
          const { size } = await stat(local);
          log.line(`${what}: fetched ${formatBytes(size)} from ${displayUrl(model.url)} in ${Date.now() - started} ms`);
          return { stream: createReadStream(local, { highWaterMark: 1 << 20 }), size };
        },
      });
    }
    const unpacked = await filesUnder(modelsDir, APP_ROOT.slice(1));
    for (const f of unpacked) {
      if (files.some((g) => g.path === f.path)) throw new BuildFailure("FileConflict", `Two models would both be /${f.path}.`);
    }
    return [...files, ...unpacked];
  }

  /** Where the manifest's environment files take effect, said where the user reads the build. */
  #logEnvironmentNotes(environment: ImageEnvironment, log: BuildLog): void {
    const python = this.options.python;
    if (environment.condaEnvFile) {
      const tool = findCondaTool(process.env.PATH);
      log.line(
        tool
          ? `conda file: ${environment.condaEnvFile}; the local runtime applies it with ${tool.name} when a service starts (cached per file)`
          : `conda file: ${environment.condaEnvFile} is NOT applied on the local runtime: there is no conda, mamba or micromamba on its PATH, so drivers run on ${python} (PYTHON)${environment.pipRequirements ? " with the pip requirements" : ""}`,
      );
      log.line(
        `conda file: a Dockerfile build (ACR Tasks) starts from ${this.options.condaBaseImage ?? DEFAULT_CONDA_BASE_IMAGE} and applies it`,
      );
    }
    if (environment.pipRequirements) {
      log.line(
        `pip requirements: ${environment.pipRequirements}; the local runtime installs them into a virtual environment of ${python} when a service starts (cached per file, with your pip settings); a Dockerfile build runs pip install`,
      );
    }
  }

  #config(request: ImageBuildRequest, image: ImageSettings, layers: LayerDescriptor[]) {
    const { manifest } = request;
    return {
      created: "1970-01-01T00:00:00Z",
      architecture: "amd64",
      os: "linux",
      config: {
        Entrypoint: ["python3", `${SERVER_ROOT}/server.py`],
        WorkingDir: APP_ROOT,
        Env: scoringEnvironment(manifest, image),
        ExposedPorts: { [`${SCORING_PORT}/tcp`]: {} },
        Labels: imageLabels(manifest, this.options.baseImage),
      },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: [{ created_by: "scoring server" }, { created_by: "driver and assets" }, { created_by: "models" }].map((h) => ({
        created: "1970-01-01T00:00:00Z",
        ...h,
      })),
    };
  }

  /**
   * The same build as a Dockerfile context, for ACR Tasks: FROM the base image, the three layers
   * (hard links to the OCI blobs: ADD unpacks them, so nothing is stored twice), the manifest's
   * pip or conda requirements installed when it names them, the same environment and entrypoint.
   */
  async #writeContext(request: ImageBuildRequest, image: ImageSettings, layers: LayerDescriptor[]): Promise<void> {
    const dir = this.contextDir(request, request.imageId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const names = ["layer-1-scoring-server", "layer-2-app", "layer-3-models"].map(
      (name, i) => `${name}${layers[i]!.mediaType === MEDIA.layerGzip ? ".tar.gz" : ".tar"}`,
    );
    for (const [i, layer] of layers.entries()) {
      const target = join(dir, names[i]!);
      await link(this.layout.blobPath(layer.digest), target).catch(() => copyFile(this.layout.blobPath(layer.digest), target));
    }
    const { pipRequirements, condaEnvFile } = image.environment;
    const lines = [
      `# Built by model-management from manifest ${request.manifest.name} v${request.manifest.version}.`,
      `FROM ${condaEnvFile ? (this.options.condaBaseImage ?? DEFAULT_CONDA_BASE_IMAGE) : this.options.baseImage}`,
      `ADD ${names[0]} /`,
      `ADD ${names[1]} /`,
    ];
    if (condaEnvFile) lines.push(`RUN conda env update --name base --file ${condaEnvFile} && conda clean --all --yes`);
    if (pipRequirements) lines.push(`RUN python3 -m pip install --no-cache-dir -r ${pipRequirements}`);
    lines.push(
      `ADD ${names[2]} /`,
      `WORKDIR ${APP_ROOT}`,
      ...scoringEnvironment(request.manifest, image).map((e) => `ENV ${e.replace("=", '="')}"`),
      ...Object.entries(imageLabels(request.manifest, this.options.baseImage)).map(([k, v]) => `LABEL ${k}="${v}"`),
      `EXPOSE ${SCORING_PORT}`,
      `ENTRYPOINT ["python3", "${SERVER_ROOT}/server.py"]`,
    );
    await writeFile(join(dir, "Dockerfile"), lines.join("\n") + "\n");
  }
}

/** What the build learnt of the app that the image's configuration records. */
interface ImageSettings {
  environment: ImageEnvironment;
  /** The service's schema file, relative to the app root. */
  schemaFile?: string;
}

/** The scoring server's settings baked into the image; a deployment may override the AML_* switches. */
function scoringEnvironment(manifest: ManifestDocument, image: ImageSettings): string[] {
  return [
    "PYTHONUNBUFFERED=1",
    `AML_APP_ROOT=${APP_ROOT}`,
    `AML_DRIVER=${manifest.driverProgram}`,
    `AML_SCHEMA=${image.schemaFile ?? DEFAULT_SCHEMA_FILE}`,
    ...Object.entries(image.environment).map(
      ([property, path]) => `${ENVIRONMENT_FILES[property as keyof typeof ENVIRONMENT_FILES].env}=${path}`,
    ),
    `AML_PORT=${SCORING_PORT}`,
    "AML_HOST=0.0.0.0",
    "AML_APP_INSIGHTS_ENABLED=false",
    "AML_MODEL_DC_STORAGE_ENABLED=false",
    "AML_MODEL_DC_EVENT_HUB_ENABLED=false",
  ];
}

/** What the image is made of; nothing that differs between two builds of one manifest. */
function imageLabels(manifest: ManifestDocument, baseImage: string): Record<string, string> {
  return {
    "org.opencontainers.image.base.name": baseImage,
    "azureml.manifest.id": manifest.id,
    "azureml.manifest.name": manifest.name,
    "azureml.manifest.version": String(manifest.version),
    "azureml.model.ids": [...manifest.modelIds].sort().join(","),
    "azureml.driver": manifest.driverProgram,
    "azureml.runtime": manifest.targetRuntime.runtimeType,
  };
}

/** A model's file name in the app directory: the last segment of its URL's path, else its name. */
export function modelFileName(model: ModelDocument): string {
  let name: string;
  try {
    name = decodeURIComponent(basename(new URL(model.url).pathname));
  } catch {
    name = "";
  }
  name = name.replace(/[^A-Za-z0-9._-]/g, "_");
  if (!name || name === "." || name === "..") name = model.name.replace(/[^A-Za-z0-9._-]/g, "_") || model.id;
  return name;
}

function safeRelative(path: string, what: string): string {
  const normal = posix.normalize(path.replace(/\\/g, "/"));
  if (normal.startsWith("/") || normal === ".." || normal.startsWith("../") || normal === ".")
    throw new BuildFailure("BadAssetId", `The ${what} id must be a relative file path.`);
  return normal;
}

/** Every file under a directory, as layer files under `prefix`, executables kept executable. */
async function filesUnder(dir: string, prefix: string, keep: (name: string) => boolean = () => true): Promise<LayerFile[]> {
  const out: LayerFile[] = [];
  async function walk(current: string): Promise<void> {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === "__pycache__") continue;
        await walk(full);
      } else if (entry.isFile() && keep(entry.name)) {
        const info = await stat(full);
        out.push({
          path: `${prefix}/${relative(dir, full).split(sep).join("/")}`,
          executable: (info.mode & 0o111) !== 0,
          open: async () => ({ stream: createReadStream(full, { highWaterMark: 1 << 20 }), size: (await stat(full)).size }),
        });
      }
    }
  }
  if (existsSync(dir)) await walk(dir);
  return out;
}

/** A layer as the build log tells it: its size and how it is stored. */
function describeLayer(layer: LayerDescriptor): string {
  return `${formatBytes(layer.size)}, ${layer.mediaType === MEDIA.layerGzip ? "gzip" : "uncompressed: it would not compress"}`;
}
