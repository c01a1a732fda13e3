import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PassThrough, type Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { ContainerRegistryManagementClient, type ContainerRegistryManagementClientOptionalParams } from "@azure/arm-containerregistry";
import { ContainerRegistryClient, KnownContainerRegistryAudience, type ContainerRegistryClientOptions } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { BlockBlobClient } from "@azure/storage-blob";
import tarStream from "tar-stream";
import { BuildFailure, BuildPending } from "./build-failure.js";
import type { BuildLog } from "./build-log.js";
import type { BuiltImage, ImageBuilder, ImageBuildRequest, ImageBuildResult, ImageOwner } from "./image-builder.js";
import type { LocalOciBuilder } from "./local-oci-builder.js";
import { registryRepositoryOf, repositoryPrefixesOf } from "./image-names.js";

interface AcrTasksOptions {
  /** Builds the layers and writes the Dockerfile context that ACR Tasks turns into the image. */
  local: LocalOciBuilder;
  /** The registry's resource id: /subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerRegistry/registries/<name>. */
  registryId: string;
  /** `<name>.azurecr.io`. */
  loginServer: string;
  credential: TokenCredential;
  armOptions?: ContainerRegistryManagementClientOptionalParams;
  registryOptions?: ContainerRegistryClientOptions;
  /** How long a run may take before it is cancelled and the build fails (default an hour). */
  timeoutSeconds?: number;
  /** How long to leave a run alone between two looks at it (default 15 s). */
  pollSeconds?: number;
}

/** What a build keeps while its ACR Tasks run goes on: enough to find the run again and finish. */
interface RunInProgress {
  runId: string;
  /** When it was scheduled (ms since the epoch): the build's deadline counts from then. */
  scheduledAt: number;
  repository: string;
  tag: string;
  /** The run's status at the last look, so that the log says each change once. */
  status?: string;
}

/** The bounds ACR Tasks puts on a run's timeout (DockerBuildRequest.timeout, in seconds). */
const RUN_TIMEOUT_BOUNDS = { min: 300, max: 28_800 };

/**
 * ACR's refusals of a run that retrying will not change, and what to do about each. Anything
 * else ACR answers with a 4xx is a refusal too, in its own words; throttling and 5xx are retried.
 */
const REFUSALS: Record<string, string> = {
  TasksOperationsNotAllowed:
    "ACR Tasks may not run builds in this registry's subscription (free trials and some other offers cannot). Use a registry in a subscription that allows ACR Tasks, or ask Azure support to allow them, then build the image again.",
  QuotaExceeded:
    "The registry is over a quota of its SKU (storage, or concurrent runs). Delete images you no longer need or move the registry to a higher SKU, then build the image again.",
};

const TERMINAL = new Set(["Succeeded", "Failed", "Canceled", "Error", "Timeout"]);
const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;

/**
 * Builds images with ACR Tasks: the same reproducible layers and Dockerfile context as the local
 * builder, uploaded to the registry's build-source URL; a Docker build run scheduled on it once
 * and looked at once per invocation until it ends (the operation keeps the run between
 * invocations); the run's log appended to the build log (which goes to blob storage as
 * imageBuildLogUri); the pushed manifest's digest read back from the registry.
 */
export class AcrTasksBuilder implements ImageBuilder {
  readonly #arm: ContainerRegistryManagementClient;
  readonly #registry: ContainerRegistryClient;
  readonly #resourceGroup: string;
  readonly #name: string;

  constructor(private readonly o: AcrTasksOptions) {
    const m = REGISTRY_ID.exec(o.registryId);
    if (!m)
      throw new Error(
        `"${o.registryId}" is not a container registry's resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>).`,
      );
    this.#resourceGroup = m[2]!;
    this.#name = m[3]!;
    this.#arm = new ContainerRegistryManagementClient(o.credential, m[1]!, o.armOptions);
    this.#registry = new ContainerRegistryClient(`https://${o.loginServer}`, o.credential, {
      audience: KnownContainerRegistryAudience.AzureResourceManagerPublicCloud,
      ...o.registryOptions,
    });
  }

  /**
   * The first call prepares the context, uploads it and schedules the run; every call then looks
   * at the run once and, while it goes on, says to come back later (BuildPending), so that no
   * invocation waits for a build that can take longer than it may live.
   */
  async build(request: ImageBuildRequest): Promise<ImageBuildResult> {
    const run = runInProgressOf(request.resumeFrom) ?? (await this.#schedule(request));
    return this.#look(run, request.log);
  }

  async #schedule(request: ImageBuildRequest): Promise<RunInProgress> {
    const { log } = request;
    await this.o.local.build(request);
    const repository = registryRepositoryOf(request, request.imageName);
    const tag = String(request.version);
    const source = await this.#arm.registries.getBuildSourceUploadUrl(this.#resourceGroup, this.#name);
    if (!source.uploadUrl || !source.relativePath) throw new Error("ACR gave no build source upload URL.");
    await log.step(
      "upload the Dockerfile context to ACR",
      () => uploadContext(this.o.local.contextDir(request, request.imageId), source.uploadUrl!),
      (n) => n,
    );
    const timeout = this.#timeoutSeconds();
    const scheduled = await this.#arm.registries
      .beginScheduleRunAndWait(this.#resourceGroup, this.#name, {
        type: "DockerBuildRequest",
        imageNames: [`${repository}:${tag}`],
        isPushEnabled: true,
        sourceLocation: source.relativePath,
        dockerFilePath: "Dockerfile",
        platform: { os: "Linux", architecture: "amd64" },
        // ACR's own bound, never below its minimum; the build's deadline is ours (#look).
        timeout: Math.min(RUN_TIMEOUT_BOUNDS.max, Math.max(RUN_TIMEOUT_BOUNDS.min, timeout)),
      })
      .catch((err: unknown) => {
        throw refusalOf(err) ?? err;
      });
    const runId = scheduled.runId;
    if (!runId) throw new Error("ACR scheduled a run but named none.");
    log.line(`ACR Tasks run ${runId} scheduled: docker build of ${this.o.loginServer}/${repository}:${tag}`);
    // Should this invocation die before the operation keeps the run, a retry schedules another
    // run of the same context: the image is reproducible, so both push the same digest.
    return { runId, scheduledAt: Date.now(), repository, tag };
  }

  /** One look at the run: the image once it succeeded, a failure, or "later". Past the deadline it is cancelled. */
  async #look(progress: RunInProgress, log: BuildLog): Promise<ImageBuildResult> {
    const { runId, repository, tag } = progress;
    const run = await this.#arm.runs.get(this.#resourceGroup, this.#name, runId);
    if (run.status && run.status !== progress.status) log.line(`ACR Tasks run ${runId}: ${run.status}`);
    if (!run.status || !TERMINAL.has(run.status)) {
      const timeout = this.#timeoutSeconds();
      if (Date.now() > progress.scheduledAt + timeout * 1000) {
        await this.#arm.runs.beginCancelAndWait(this.#resourceGroup, this.#name, runId).catch(() => undefined);
        await this.#appendRunLog(runId, log);
        throw new BuildFailure("ImageBuildTimedOut", `ACR Tasks run ${runId} did not finish within ${timeout} s and was cancelled.`);
      }
      throw new BuildPending({ ...progress, ...(run.status ? { status: run.status } : {}) }, this.o.pollSeconds ?? 15);
    }
    await this.#appendRunLog(runId, log);
    if (run.status !== "Succeeded") {
      throw new BuildFailure(
        "ImageBuildFailed",
        `ACR Tasks run ${runId} ended ${run.status}${run.runErrorMessage ? `: ${run.runErrorMessage}` : ""}.`,
      );
    }
    const manifest = await this.#registry.getArtifact(repository, tag).getManifestProperties();
    const imageLocation = `${this.o.loginServer}/${repository}:${tag}`;
    log.line(`done: ${imageLocation} (${manifest.digest})`);
    return { imageLocation, digest: manifest.digest };
  }

  #timeoutSeconds(): number {
    return this.o.timeoutSeconds ?? 3600;
  }

  /**
   * Removes a deleted image: what the local half left, and its tag in the registry; the manifest
   * too when no other tag names it (identical builds share one).
   */
  async remove(image: BuiltImage): Promise<string[]> {
    const notes = await this.o.local.remove({ ...image, digest: undefined, imageLocation: undefined });
    const loginPrefix = `${this.o.loginServer}/`;
    const named = image.imageLocation?.startsWith(loginPrefix) ? image.imageLocation.slice(loginPrefix.length) : undefined;
    const repository = named ? named.slice(0, named.lastIndexOf(":")) : registryRepositoryOf(image, image.imageName);
    const tag = named ? named.slice(named.lastIndexOf(":") + 1) : String(image.version);
    const artifact = this.#registry.getArtifact(repository, tag);
    let tags: string[];
    try {
      tags = (await artifact.getManifestProperties()).tags;
    } catch (err) {
      if ((err as { statusCode?: unknown }).statusCode === 404) return [...notes, `${loginPrefix}${repository}:${tag} was already gone`];
      throw err;
    }
    if (tags.length <= 1) await artifact.delete();
    else await artifact.deleteTag(tag);
    return [...notes, `${loginPrefix}${repository}:${tag} deleted${tags.length > 1 ? " (the manifest stays: other tags name it)" : ""}`];
  }

  /** Removes every repository of a deleted account's incarnation from the registry, and what the local half kept. */
  async removeAll(owner: ImageOwner): Promise<string[]> {
    const notes = await this.o.local.removeAll(owner);
    const prefixes = repositoryPrefixesOf(owner);
    for await (const name of this.#registry.listRepositoryNames()) {
      if (!prefixes.some((p) => name.startsWith(p))) continue;
      await this.#registry.deleteRepository(name);
      notes.push(`${this.o.loginServer}/${name} deleted`);
    }
    return notes;
  }

  /** The run's own log, into the build log (best effort: the run's outcome decides the build). */
  async #appendRunLog(runId: string, log: BuildLog): Promise<void> {
    try {
      const { logLink } = await this.#arm.runs.getLogSasUrl(this.#resourceGroup, this.#name, runId);
      if (!logLink) return;
      const res = await fetch(logLink);
      if (!res.ok) return log.line(`the log of ACR Tasks run ${runId} could not be read (${res.status})`);
      for (const line of (await res.text()).split("\n")) if (line.trim()) log.line(`acr ${runId}| ${line}`);
    } catch (err) {
      log.line(`the log of ACR Tasks run ${runId} could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** A checkpoint of a run in progress, as this builder left it; undefined for anything else. */
function runInProgressOf(state: Record<string, unknown> | undefined): RunInProgress | undefined {
  if (!state || typeof state.runId !== "string" || typeof state.scheduledAt !== "number") return undefined;
  if (typeof state.repository !== "string" || typeof state.tag !== "string") return undefined;
  return {
    runId: state.runId,
    scheduledAt: state.scheduledAt,
    repository: state.repository,
    tag: state.tag,
    ...(typeof state.status === "string" ? { status: state.status } : {}),
  };
}

/** ACR's 4xx answer to scheduling a run, as a build failure that says what to do; undefined for what a retry may fix. */
function refusalOf(err: unknown): BuildFailure | undefined {
  const { statusCode, code, message } = err as { statusCode?: number; code?: string; message?: string };
  if (!statusCode || statusCode < 400 || statusCode >= 500 || statusCode === 408 || statusCode === 429) return undefined;
  const advice = code ? REFUSALS[code] : undefined;
  return new BuildFailure(
    "ImageBuildRefused",
    `ACR refused to run the build (${code ?? statusCode}: ${message ?? "no message"})${advice ? `. ${advice}` : "."}`,
  );
}

/** Streams the context directory as a tar.gz to the upload URL (a SAS blob URL); returns the bytes sent. */
async function uploadContext(dir: string, uploadUrl: string): Promise<number> {
  const pack = tarStream.pack();
  let sent = 0;
  const counted = new PassThrough();
  counted.on("data", (c: Buffer) => (sent += c.length));
  const packing = (async () => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const { size } = await stat(path);
      const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
      await pipeline(createReadStream(path), entry);
    }
    pack.finalize();
  })().catch((err: unknown) => {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  const gz = (pack as unknown as Readable).pipe(createGzip({ level: 1 })).pipe(counted);
  await Promise.all([
    packing,
    new BlockBlobClient(uploadUrl).uploadStream(gz, 8 << 20, 4, { blobHTTPHeaders: { blobContentType: "application/gzip" } }),
  ]);
  return sent;
}
