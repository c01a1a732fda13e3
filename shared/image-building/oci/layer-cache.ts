import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerDescriptor } from "./media-types.js";

/** A layer written once, and the paths of the files it holds (checked against the other layers' files). */
export interface CachedLayer {
  layer: LayerDescriptor;
  paths: string[];
}

/**
 * Layers remembered by the identity of what they were made from, so that a rebuild with the same
 * models neither fetches nor hashes them again. The identity is the caller's: for models, each
 * model's id, file name, unpack flag and the strong ETag of the bytes that were read, so a blob
 * written again (a new ETag) is never served from here. An entry is only a pointer: the blob
 * stays in the OCI layout, where garbage collection may remove it; an entry whose blob is gone is
 * a miss (OciLayout.reuse tells) and is pruned.
 */
export class LayerCache {
  constructor(private readonly dir: string) {}

  /** The key of an identity: any JSON value, hashed. */
  static keyOf(identity: unknown): string {
    return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  }

  async get(key: string): Promise<CachedLayer | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, `${key}.json`), "utf8")) as CachedLayer;
    } catch {
      return undefined;
    }
  }

  /** Remembers a layer; a failure to write costs only a miss later, never the build. */
  async put(key: string, entry: CachedLayer): Promise<void> {
    const tmp = join(this.dir, `.tmp-${randomUUID()}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, join(this.dir, `${key}.json`));
    } catch {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Forgets the entries whose blob is gone (`blobExists` says). An entry a build writes at the
   * same moment may be forgotten with them: a later miss, nothing worse.
   */
  async prune(blobExists: (digest: string) => boolean): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith(".json")) continue;
      const entry = await this.get(name.slice(0, -".json".length));
      if (!entry || !blobExists(entry.layer.digest)) await rm(join(this.dir, name), { force: true });
    }
  }

  /** Removes what a crash left half-written (before this process's first build). */
  async removeLeftovers(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(".tmp-")).map((n) => rm(join(this.dir, n), { force: true })));
  }
}
