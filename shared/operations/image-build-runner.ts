import type { Container } from "@azure/cosmos";
import { heartbeat, isTerminal, recordAttemptError } from "./operation-progress.js";
import { BuildFailure } from "../build/build-failure.js";
import { BuildLog } from "../build/build-log.js";
import type { BuildLogStore } from "../build/build-log-store.js";
import type { ImageBuilder } from "../build/image-builder.js";
import { parseAccountPath } from "../account-ref.js";
import { replaceTogether, type Versioned } from "../store/batch-replace.js";
import type { ErrorResponseBody, ImageDocument, ModelDocument, OperationDocument } from "../store/documents.js";
import type { ImageRepository } from "../store/image-repository.js";
import type { ManifestRepository } from "../store/manifest-repository.js";
import type { ModelRepository } from "../store/model-repository.js";
import type { OperationRepository } from "../store/operation-repository.js";
import type { ImageBuildMessage } from "../schemas/images.js";

export interface ImageBuildDeps {
  container: Container;
  images: ImageRepository;
  operations: OperationRepository;
  manifests: ManifestRepository;
  models: ModelRepository;
  /** The builder for a compute target (`local`, or an AKS cluster id); undefined when none serves it. */
  builderFor(computeResourceId: string): ImageBuilder | undefined;
  logs: BuildLogStore;
  heartbeatMs: number;
  warn(message: string): void;
}


/**
 * Runs the build an image-build message asks for. Idempotent: an operation already finished is
 * left alone, and the image's version was fixed when it was created, so a redelivered message
 * never makes a second image or version. A BuildFailure ends the operation Failed (the message
 * is then done); any other error is rethrown so the host retries, and after its last attempt
 * the poison handler ends the operation Failed.
 */
export async function runImageBuild(deps: ImageBuildDeps, message: ImageBuildMessage): Promise<void> {
  const pk = message.accountPath;
  const log = new BuildLog();
  const started = await startOperation(deps, pk, message.operationId, log);
  if (!started) return;
  const { operation, image } = started;
  const beating = setInterval(() => void heartbeat(deps.operations, pk, operation.id, deps.warn), deps.heartbeatMs);
  const flusher = new LiveLogFlusher(deps, image.id, log);
  try {
    const builder = deps.builderFor(image.computeResourceId);
    if (!builder) throw new BuildFailure("NoImageBuilder", `No image builder serves the compute resource "${image.computeResourceId}".`);
    const manifest = await deps.manifests.get(pk, image.manifestId);
    if (!manifest) throw new BuildFailure("ManifestNotFound", `The image's manifest ${image.manifestId} no longer exists.`);
    const models: ModelDocument[] = [];
    for (const id of manifest.modelIds) {
      const model = await deps.models.get(pk, id);
      if (!model) throw new BuildFailure("ModelNotFound", `The manifest's model ${id} no longer exists.`);
      models.push(model);
    }
    const result = await builder.build({
      imageId: image.id,
      imageName: image.name,
      version: image.version,
      accountPath: pk,
      accountName: parseAccountPath(pk).accountName,
      manifest,
      models,
      log,
    });
    await flusher.stop();
    const logUri = await saveLog(deps, image.id, log);
    await finish(deps, pk, operation.id, image.id, "Succeeded", { imageLocation: result.imageLocation, digest: result.digest, ...(logUri ? { imageBuildLogUri: logUri } : {}) });
  } catch (err) {
    if (!(err instanceof BuildFailure)) {
      log.line(`attempt failed: ${err instanceof Error ? err.message : String(err)}`);
      await flusher.stop();
      await flushLog(deps, image.id, log);
      await recordAttemptError(deps.operations, pk, operation.id, err);
      throw err;
    }
    await flusher.stop();
    const logUri = await saveLog(deps, image.id, log);
    const error: ErrorResponseBody = { code: err.code, message: err.message, statusCode: 400 };
    await finish(deps, pk, operation.id, image.id, "Failed", { error, ...(logUri ? { imageBuildLogUri: logUri } : {}) });
  } finally {
    clearInterval(beating);
    await flusher.stop();
  }
}

/** Ends an operation and its image Failed: after its last attempt (poison) or past its deadline. */
export async function failImageBuild(deps: Pick<ImageBuildDeps, "container" | "images" | "operations">, pk: string, operationId: string, error: ErrorResponseBody): Promise<void> {
  const operation = await deps.operations.get(pk, operationId);
  if (!operation || isTerminal(operation.state)) return;
  await finish(deps, pk, operationId, operation.resourceId, "Failed", { error });
}

async function startOperation(deps: ImageBuildDeps, pk: string, operationId: string, log: BuildLog): Promise<{ operation: OperationDocument; image: ImageDocument } | undefined> {
  let logUri: string | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const operation = await deps.operations.get(pk, operationId);
    if (!operation || isTerminal(operation.state)) return undefined;
    const image = await deps.images.get(pk, operation.resourceId);
    if (!image) {
      await finishOperationOnly(deps, operation, { code: "ImageNotFound", message: `The operation's image ${operation.resourceId} no longer exists.` });
      return undefined;
    }
    const now = new Date().toISOString();
    const runningOp: Versioned<OperationDocument> = { ...operation, state: "Running", heartbeatAt: now, attempts: (operation.attempts ?? 0) + 1 };
    // The log's URL is on the image from the start, so a client can follow the build as it runs.
    if (logUri === undefined) {
      log.line(`attempt ${runningOp.attempts} started`);
      logUri = image.imageBuildLogUri ?? (await saveLog(deps, image.id, log));
    }
    const runningImage: Versioned<ImageDocument> = { ...image, creationState: "Running", ...(logUri ? { imageBuildLogUri: logUri } : {}) };
    if (await replaceTogether(deps.container, pk, [runningOp, runningImage])) return { operation: runningOp, image: runningImage };
  }
  throw new Error(`Operation ${operationId} kept changing while it was being started.`);
}

async function finish(
  deps: Pick<ImageBuildDeps, "container" | "images" | "operations">,
  pk: string,
  operationId: string,
  imageId: string,
  state: "Succeeded" | "Failed",
  imageFields: Partial<ImageDocument>,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const operation = await deps.operations.get(pk, operationId);
    if (!operation || isTerminal(operation.state)) return;
    const image = await deps.images.get(pk, imageId);
    const endTime = new Date().toISOString();
    const op: Versioned<OperationDocument> = { ...operation, state, endTime, ...(state === "Failed" && imageFields.error ? { error: imageFields.error } : {}) };
    if (!image) {
      if (await deps.operations.replace(op)) return;
      continue;
    }
    const settled: Versioned<ImageDocument> = { ...image, ...imageFields, creationState: state };
    if (await replaceTogether(deps.container, pk, [op, settled])) return;
  }
  throw new Error(`Operation ${operationId} kept changing while it was being finished.`);
}

async function finishOperationOnly(deps: Pick<ImageBuildDeps, "operations">, operation: Versioned<OperationDocument>, error: ErrorResponseBody): Promise<void> {
  await deps.operations.replace({ ...operation, state: "Failed", endTime: new Date().toISOString(), error });
}



async function saveLog(deps: ImageBuildDeps, imageId: string, log: BuildLog): Promise<string | undefined> {
  try {
    return await deps.logs.save(imageId, log.text());
  } catch (err) {
    deps.warn(`the build log of image ${imageId} could not be saved: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Rewrites the log blob, best effort: a lost flush only delays what a follower sees. */
async function flushLog(deps: ImageBuildDeps, imageId: string, log: BuildLog): Promise<void> {
  try {
    await deps.logs.write(imageId, log.text());
  } catch (err) {
    deps.warn(`the build log of image ${imageId} could not be written: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const LOG_FLUSH_MS = 1000;

/** Writes a running build's log out every second while it grows, one write at a time. */
class LiveLogFlusher {
  readonly #timer: NodeJS.Timeout;
  #flushed: number;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ImageBuildDeps, private readonly imageId: string, private readonly log: BuildLog) {
    this.#flushed = log.revision;
    this.#timer = setInterval(() => this.#tick(), LOG_FLUSH_MS);
  }

  #tick(): void {
    const revision = this.log.revision;
    if (revision === this.#flushed) return;
    this.#flushed = revision;
    this.#inFlight = this.#inFlight.then(() => flushLog(this.deps, this.imageId, this.log));
  }

  /** Stops flushing and waits for a write in flight, so that the final save is the last write. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }
}
