import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MEDIA, type Descriptor } from "./media-types.js";

/**
 * An OCI image layout directory (image-layout.md): `oci-layout`, content-addressed
 * `blobs/sha256/…`, and `index.json` naming each image by `org.opencontainers.image.ref.name`.
 * One layout holds every image, so identical layers (a model used by many images) are stored once.
 */
export class OciLayout {
  #indexLock: Promise<void> = Promise.resolve();
  /**
   * When each build in progress started (what they write is newer, and garbage collection spares
   * it), and the blobs each reuses from earlier builds (a cached model layer), which it spares too.
   */
  readonly #builds = new Set<{ since: number; reused: Set<string> }>();
  /** Blobs a collection is removing right now, by file name. */
  readonly #removing = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  get blobsDir(): string {
    return join(this.dir, "blobs", "sha256");
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digest.replace(/^sha256:/, ""));
  }

  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    const marker = join(this.dir, "oci-layout");
    if (!existsSync(marker)) await writeFile(marker, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (!existsSync(join(this.dir, "index.json"))) await this.#writeIndex({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [] });
  }

  /** Stores a JSON document as a blob: compact, keys in the order given, so the digest is stable. */
  async putJson(mediaType: string, value: unknown): Promise<Descriptor & { bytes: Buffer }> {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const path = this.blobPath(digest);
    if (!existsSync(path)) {
      const tmp = join(this.blobsDir, `.tmp-${randomUUID()}`);
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } else {
      // Reused by a build in progress: newer than its start now, so a collection spares it.
      const now = new Date();
      await utimes(path, now, now);
    }
    return { mediaType, digest, size: bytes.length, bytes };
  }

  /**
   * Marks a build in progress until the returned function is called. Every blob a build writes
   * (or reuses) is newer than its start, and garbage collection never removes a blob newer than
   * the oldest build in progress: a build's blobs are safe before its image is tagged.
   * Builds and collections of one layout run in one process (the builder removes what crashed
   * builds left on that assumption too).
   */
  startBuild(): BuildInProgress {
    const build = { since: Date.now(), reused: new Set<string>() };
    this.#builds.add(build);
    return {
      end: () => void this.#builds.delete(build),
      reuse: async (digest) => {
        const name = digest.replace(/^sha256:/, "");
        // Kept from now on; a removal that started before waits to be over, then the file tells.
        build.reused.add(name);
        await this.#removing.get(name);
        return existsSync(this.blobPath(digest));
      },
    };
  }

  /** The refs in index.json and the manifests they name. */
  async refs(): Promise<{ ref: string; digest: string }[]> {
    const index = JSON.parse(await readFile(join(this.dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
    return index.manifests.flatMap((m) => {
      const ref = m.annotations?.["org.opencontainers.image.ref.name"];
      return ref ? [{ ref, digest: m.digest }] : [];
    });
  }

  /** Removes a name from index.json; the blobs stay until a collection finds them unused. */
  untag(ref: string): Promise<void> {
    return this.#updateIndex((manifests) => manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== ref));
  }

  /**
   * Removes the blobs that no image in index.json uses (its manifest, config and layers), except
   * those newer than the oldest build in progress. Returns how many bytes it freed.
   */
  async collectGarbage(): Promise<{ removed: number; bytes: number }> {
    if (!existsSync(join(this.dir, "index.json"))) return { removed: 0, bytes: 0 };
    // Taken before index.json is read: a build that tags after this point wrote its blobs after
    // it too (or after its own start, when it was in progress), so they are spared. File times
    // lag Date.now() by a tick of the kernel's coarse clock: a tenth of a second of slack.
    const spareFrom = Math.min(Date.now(), ...[...this.#builds].map((b) => b.since)) - 100;
    const used = new Set<string>();
    for (const { digest } of await this.refs()) {
      used.add(digest);
      const manifest = await readFile(this.blobPath(digest), "utf8")
        .then((text) => JSON.parse(text) as { config: Descriptor; layers: Descriptor[] })
        .catch(() => undefined); // a manifest gone missing names nothing more to keep
      for (const d of manifest ? [manifest.config, ...manifest.layers] : []) used.add(d.digest);
    }
    let removed = 0;
    let bytes = 0;
    for (const name of await readdir(this.blobsDir)) {
      if (name.startsWith(".") || used.has(`sha256:${name}`)) continue;
      const path = join(this.blobsDir, name);
      const info = await stat(path).catch(() => undefined);
      // Checked and marked in one step, with no wait between: a build that reuses the blob after
      // this point waits for the removal to end and finds it gone.
      if (!info || info.mtimeMs >= spareFrom || [...this.#builds].some((b) => b.reused.has(name))) continue;
      const removal = rm(path, { force: true }).finally(() => this.#removing.delete(name));
      this.#removing.set(name, removal);
      await removal;
      removed++;
      bytes += info.size;
    }
    return { removed, bytes };
  }

  /** Names a manifest in index.json, replacing what had that name. */
  tag(manifest: Descriptor, ref: string): Promise<void> {
    const entry = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      annotations: { "org.opencontainers.image.ref.name": ref },
    };
    return this.#updateIndex((manifests) => [
      ...manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== ref),
      entry,
    ]);
  }

  /** Rewrites index.json's manifests, one change at a time. */
  #updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    const run = this.#indexLock.then(async () => {
      const index = JSON.parse(await readFile(join(this.dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
      await this.#writeIndex({ schemaVersion: 2, mediaType: MEDIA.index, manifests: change(index.manifests) });
    });
    this.#indexLock = run.catch(() => undefined);
    return run;
  }

  async #writeIndex(index: unknown): Promise<void> {
    const tmp = join(this.dir, `.index-${randomUUID()}.json`);
    await writeFile(tmp, JSON.stringify(index, null, 2));
    await rename(tmp, join(this.dir, "index.json"));
  }
}

/** A build in progress, as garbage collection sees it. */
export interface BuildInProgress {
  /** The build is over (its image tagged, or failed): its blobs are spared no longer. */
  end(): void;
  /** Keeps a blob of an earlier build for this one; false when it is gone (then write it again). */
  reuse(digest: string): Promise<boolean>;
}
