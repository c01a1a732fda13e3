import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { unpackArchive } from "../../shared/image-building/archive.js";

/**
 * Unpacks an image from an OCI layout into a root filesystem, once per manifest digest (images
 * are immutable, so a digest's rootfs never changes): `<cache>/<digest>/rootfs`.
 */
export class ImageUnpacker {
  #inFlight = new Map<string, Promise<string>>();

  constructor(private readonly cacheDir: string) {}

  rootfs(layoutDir: string, digest: string): Promise<string> {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return Promise.reject(new Error(`"${digest}" is not an image digest.`));
    let pending = this.#inFlight.get(digest);
    if (!pending) {
      pending = this.#unpack(layoutDir, digest).finally(() => this.#inFlight.delete(digest));
      this.#inFlight.set(digest, pending);
    }
    return pending;
  }

  async #unpack(layoutDir: string, digest: string): Promise<string> {
    const target = join(this.cacheDir, digest.replace(":", "-"));
    const rootfs = join(target, "rootfs");
    if (existsSync(rootfs)) return rootfs;
    const blob = (d: string) => join(layoutDir, "blobs", "sha256", d.replace(/^sha256:/, ""));
    const manifestPath = blob(digest);
    if (!existsSync(manifestPath)) throw new Error(`The image ${digest} is not in the OCI layout ${layoutDir}.`);
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as {
      config: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8")) as { config?: { Env?: string[] } };
    const scratch = join(this.cacheDir, `.unpack-${randomUUID()}`);
    await mkdir(scratch, { recursive: true });
    try {
      for (const [i, layer] of manifest.layers.entries()) {
        await unpackArchive(blob(layer.digest), scratch, `layer ${i + 1} (${layer.digest})`);
      }
      await mkdir(target, { recursive: true });
      // The image's own environment (AML_DRIVER and the rest), as a container runtime would set it.
      await writeFile(
        join(target, "env.json"),
        JSON.stringify(
          Object.fromEntries((config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
        ),
      );
      await rename(scratch, rootfs);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    return rootfs;
  }

  /**
   * Removes the unpacked roots of images no service runs any more (a deleted service's, an image
   * replaced by an update): they are as large as the image. One being unpacked stays.
   */
  async removeUnused(inUse: Set<string>): Promise<string[]> {
    const names = await readdir(this.cacheDir).catch(() => [] as string[]);
    const unused = names
      .filter((n) => /^sha256-[0-9a-f]{64}$/.test(n))
      .map((n) => n.replace("-", ":"))
      .filter((digest) => !inUse.has(digest) && !this.#inFlight.has(digest));
    await Promise.all(unused.map((digest) => rm(join(this.cacheDir, digest.replace(":", "-")), { recursive: true, force: true })));
    return unused;
  }

  /** The environment the image's config sets (written beside its rootfs when it was unpacked). */
  static environment(rootfs: string): Record<string, string> {
    const path = join(rootfs, "..", "env.json");
    return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, string>) : {};
  }
}
