import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PassThrough, type Readable } from "node:stream";
import { createGzip } from "node:zlib";
import {
  ContainerRegistryManagementClient,
  type ContainerRegistryManagementClientOptionalParams,
  type Run,
} from "@azure/arm-containerregistry";
import { ContainerRegistryClient, KnownContainerRegistryAudience, type ContainerRegistryClientOptions } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { BlockBlobClient } from "@azure/storage-blob";
import tarStream from "tar-stream";
import { BuildFailure } from "./build-failure.js";
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
  /** How long a run may take before it is cancelled and the build fails. */
  timeoutSeconds?: number;
  pollMs?: number;
}

const TERMINAL = new Set(["Succeeded", "Failed", "Canceled", "Error", "Timeout"]);
const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;

/**
 * Builds images with ACR Tasks: the same reproducible layers and Dockerfile context as the local
 * builder, uploaded to the registry's build-source URL; a Docker build run scheduled on it and
 * followed to its end; the run's log appended to the build log (which goes to blob storage as
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

  async build(request: ImageBuildRequest): Promise<ImageBuildResult> {
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

    const timeout = this.o.timeoutSeconds ?? 3600;
    const scheduled = await this.#arm.registries.beginScheduleRunAndWait(this.#resourceGroup, this.#name, {
      type: "DockerBuildRequest",
      imageNames: [`${repository}:${tag}`],
      isPushEnabled: true,
      sourceLocation: source.relativePath,
      dockerFilePath: "Dockerfile",
      platform: { os: "Linux", architecture: "amd64" },
      timeout,
    });
    const runId = scheduled.runId;
    if (!runId) throw new Error("ACR scheduled a run but named none.");
    log.line(`ACR Tasks run ${runId} scheduled: docker build of ${this.o.loginServer}/${repository}:${tag}`);
    const run = await this.#follow(runId, timeout, log);
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

  /** Polls the run until it ends; past the timeout it is cancelled, and the build fails saying so. */
  async #follow(runId: string, timeoutSeconds: number, log: BuildLog): Promise<Run> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = "";
    for (;;) {
      const run = await this.#arm.runs.get(this.#resourceGroup, this.#name, runId);
      if (run.status && run.status !== last) {
        log.line(`ACR Tasks run ${runId}: ${run.status}`);
        last = run.status;
      }
      if (run.status && TERMINAL.has(run.status)) return run;
      if (Date.now() > deadline) {
        await this.#arm.runs.beginCancelAndWait(this.#resourceGroup, this.#name, runId).catch(() => undefined);
        throw new BuildFailure("ImageBuildTimedOut", `ACR Tasks run ${runId} did not finish within ${timeoutSeconds} s and was cancelled.`);
      }
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 3000));
    }
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
