import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MEDIA, type Descriptor } from "./media-types.js";

/**
 * An OCI image layout directory (image-layout.md): `oci-layout`, content-addressed
 * `blobs/sha256/…`, and `index.json` naming each image by `org.opencontainers.image.ref.name`.
 * One layout holds every image, so identical layers (a model used by many images) are stored once.
 */
export class OciLayout {
  #indexLock: Promise<void> = Promise.resolve();

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
    }
    return { mediaType, digest, size: bytes.length, bytes };
  }

  /** Names a manifest in index.json, replacing what had that name. */
  tag(manifest: Descriptor, ref: string): Promise<void> {
    const run = this.#indexLock.then(async () => {
      const index = JSON.parse(await readFile(join(this.dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
      const others = index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== ref);
      const entry = {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        annotations: { "org.opencontainers.image.ref.name": ref },
      };
      await this.#writeIndex({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [...others, entry] });
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
