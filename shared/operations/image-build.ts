import { ContinueLater, OperationFailure, type AttemptContext, type MessageQueue, type OperationKind } from "./operation-kind.js";
import { BuildFailure, BuildPending } from "../image-building/build-failure.js";
import { BuildLog } from "../image-building/build-log.js";
import type { ImageBuilder } from "../image-building/image-builder.js";
import { accountPathOfPartition, dataPartitionOf, parseAccountPath } from "../account-ref.js";
import type { AccountDocument, ImageDocument, ManifestDocument, ModelDocument, WithEtag } from "../store/documents.js";

/** What an image build reads and writes, declared here: the Cosmos repositories are one implementation. */
interface ImageBuildDeps {
  /** The accounts: a build of a deleted account (or of an earlier account of the same name) does not run. */
  accounts: { get(path: string): Promise<AccountDocument | undefined> };
  images: { get(pk: string, id: string): Promise<WithEtag<ImageDocument> | undefined> };
  manifests: { get(pk: string, id: string): Promise<ManifestDocument | undefined> };
  models: { get(pk: string, id: string): Promise<ModelDocument | undefined> };
  /** The builder for a compute target (`local`, or an AKS cluster id); undefined when none serves it. */
  builderFor(computeResourceId: string): ImageBuilder | undefined;
  /** Where build logs go: `save` returns the URL users read them at. */
  logs: {
    save(partition: string, imageId: string, text: string): Promise<string>;
    write(partition: string, imageId: string, text: string): Promise<void>;
    read(partition: string, imageId: string): Promise<string | undefined>;
  };
  queue: MessageQueue;
}

/** One attempt at a build: the image as read, and the log it writes as it goes. */
interface BuildAttempt {
  image: WithEtag<ImageDocument>;
  log: BuildLog;
  logUri?: string;
  flusher?: LiveLogFlusher;
}

type BuildResult = Pick<ImageDocument, "imageLocation" | "digest">;

/**
 * Image builds as an operation kind: the image is `Running` with its build log's URL from the
 * start of an attempt (a client can follow the log as it grows), and ends with the operation,
 * `Succeeded` with its location and digest or `Failed` with the operation's error. The image's
 * version was fixed when it was created, so a redelivered message never makes a second one.
 */
export function imageBuildKind(deps: ImageBuildDeps): OperationKind<BuildAttempt, BuildResult> {
  return {
    type: "Image",
    noun: "image build",
    queue: deps.queue,
    poisonCode: "ImageBuildFailed",

    async load({ operation, checkpoint }) {
      const image = await deps.images.get(operation.pk, operation.resourceId);
      if (!image) throw new OperationFailure("ImageNotFound", `The operation's image ${operation.resourceId} no longer exists.`);
      // A build taken up again goes on with the log it wrote so far.
      const earlier = checkpoint ? await deps.logs.read(image.pk, image.id).catch(() => undefined) : undefined;
      return { image, log: new BuildLog(earlier) };
    },

    async running(attempt, ctx) {
      if (!ctx.checkpoint) attempt.log.line(`attempt ${ctx.operation.attempts} started`);
      attempt.logUri = attempt.image.imageBuildLogUri ?? (await saveLog(deps, attempt, ctx));
      return [{ ...attempt.image, creationState: "Running", ...(attempt.logUri ? { imageBuildLogUri: attempt.logUri } : {}) }];
    },

    async work(attempt, ctx) {
      const { image, log } = attempt;
      const pk = ctx.operation.pk;
      attempt.flusher = new LiveLogFlusher(() => writeLog(deps, attempt, ctx), log);
      try {
        const builder = deps.builderFor(image.computeResourceId);
        if (!builder)
          throw new OperationFailure("NoImageBuilder", `No image builder serves the compute resource "${image.computeResourceId}".`);
        const accountPath = accountPathOfPartition(pk);
        const account = await deps.accounts.get(accountPath);
        if (!account || account.state !== "Ready" || dataPartitionOf(account) !== pk)
          throw new OperationFailure("AccountNotFound", `The image's account ${accountPath} was deleted.`);
        const manifest = await deps.manifests.get(pk, image.manifestId);
        if (!manifest) throw new OperationFailure("ManifestNotFound", `The image's manifest ${image.manifestId} no longer exists.`);
        const models: ModelDocument[] = [];
        for (const id of manifest.modelIds) {
          const model = await deps.models.get(pk, id);
          if (!model) throw new OperationFailure("ModelNotFound", `The manifest's model ${id} no longer exists.`);
          models.push(model);
        }
        const built = await builder.build({
          imageId: image.id,
          imageName: image.name,
          version: image.version,
          accountPath,
          accountName: parseAccountPath(accountPath).accountName,
          partition: pk,
          accountCreatedAt: account.createdAt,
          manifest,
          models,
          log,
          ...(ctx.checkpoint?.build ? { resumeFrom: ctx.checkpoint.build as Record<string, unknown> } : {}),
        });
        return { imageLocation: built.imageLocation, digest: built.digest };
      } catch (err) {
        // The builder's own "cannot succeed as asked" is the operation's, and so is its "later".
        if (err instanceof BuildPending) throw new ContinueLater({ build: err.state }, err.afterSeconds);
        throw err instanceof BuildFailure ? new OperationFailure(err.code, err.message) : err;
      }
    },

    async after(attempt, ctx, error) {
      const parked = error instanceof ContinueLater;
      const retried = error !== undefined && !(error instanceof OperationFailure) && !parked;
      if (retried) attempt.log.line(`attempt failed: ${error instanceof Error ? error.message : String(error)}`);
      await attempt.flusher?.stop();
      // The last write of the log: its URL goes on the image as it ends.
      if (retried || parked) await writeLog(deps, attempt, ctx);
      else attempt.logUri = (await saveLog(deps, attempt, ctx)) ?? attempt.logUri;
    },

    async ended(operation, outcome, attempt) {
      const image = await deps.images.get(operation.pk, operation.resourceId);
      if (!image) return [];
      const fields = outcome.state === "Succeeded" ? outcome.result : { error: outcome.error };
      return [{ ...image, ...fields, creationState: outcome.state, ...(attempt?.logUri ? { imageBuildLogUri: attempt.logUri } : {}) }];
    },
  };
}

async function saveLog(deps: ImageBuildDeps, attempt: BuildAttempt, ctx: AttemptContext): Promise<string | undefined> {
  try {
    return await deps.logs.save(attempt.image.pk, attempt.image.id, attempt.log.text());
  } catch (err) {
    ctx.warn(`the build log of image ${attempt.image.id} could not be saved: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Rewrites the log blob, best effort: a lost write only delays what a follower sees. */
async function writeLog(deps: ImageBuildDeps, attempt: BuildAttempt, ctx: AttemptContext): Promise<void> {
  try {
    await deps.logs.write(attempt.image.pk, attempt.image.id, attempt.log.text());
  } catch (err) {
    ctx.warn(`the build log of image ${attempt.image.id} could not be written: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const LOG_FLUSH_MS = 1000;

/** Writes a running build's log out every second while it grows, one write at a time. */
class LiveLogFlusher {
  readonly #timer: NodeJS.Timeout;
  #flushed: number;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: () => Promise<void>,
    private readonly log: BuildLog,
  ) {
    this.#flushed = log.revision;
    this.#timer = setInterval(() => this.#tick(), LOG_FLUSH_MS);
  }

  #tick(): void {
    const revision = this.log.revision;
    if (revision === this.#flushed) return;
    this.#flushed = revision;
    this.#inFlight = this.#inFlight.then(this.write);
  }

  /** Stops flushing and waits for a write in flight, so that the final save is the last write. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }
}
