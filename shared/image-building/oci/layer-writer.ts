import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip, gzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { MEDIA, type LayerDescriptor } from "./media-types.js";

export interface LayerFile {
  /** Path inside the image, without a leading slash: `var/azureml-app/score.py`. */
  path: string;
  executable?: boolean;
  /** Opens the content and tells its exact size; called once, in path order, while the layer is written. */
  open: () => Promise<{ stream: Readable; size: number }>;
}

/** Every entry gets the same owner, mode and time: nothing about the build machine or the hour leaks in. */
const EPOCH = new Date(0);

/**
 * Gathers small chunks (HTTP bodies arrive in 16 KiB pieces) into 1 MiB ones before compression:
 * zlib works on the thread pool, and each call costs a hand-off, which made many small calls
 * slower than `gzip -1`. Bounded: at most one chunk is held.
 */
const CHUNK = 1 << 20;
function coalescing(): Transform {
  let parts: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= CHUNK) {
        this.push(Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
      done();
    },
    flush(done) {
      if (size > 0) this.push(Buffer.concat(parts, size));
      done();
    },
  });
}

function hashing(hash: ReturnType<typeof createHash>, counter?: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      if (counter) counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** How a layer is stored: gzip-compressed, plain tar, or whichever a sample of its bytes says. */
export type LayerCompression = "gzip" | "none" | "auto";

/**
 * How much of a layer's tar stream `auto` looks at, and the least saving that makes gzip worth
 * its cost: model weights barely compress, and gzip is 25× slower than hashing the same bytes.
 */
const SAMPLE_BYTES = 4 << 20;
const WORTH_COMPRESSING = 0.9;

/**
 * Writes a tar layer into `blobsDir`, reproducibly: entries sorted by path with their parent
 * directories, fixed owner (0:0), modes (0755 directories and executables, 0644 files) and times
 * (the epoch). `auto` gzips it (level 1, deterministic) when its first 4 MiB shrink by a tenth or
 * more, and stores it as a plain tar otherwise (`application/vnd.oci.image.layer.v1.tar`, which
 * registries, containerd and Docker accept): the choice depends on the bytes only, so the same
 * files give the same digest. Content streams through (tar → [gzip] → file) with the digests
 * computed on the way (one, when the blob is the tar itself), so a 1 GB model is never held in
 * memory.
 */
export async function writeLayer(files: LayerFile[], blobsDir: string, compression: LayerCompression = "auto"): Promise<LayerDescriptor> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.path === sorted[i - 1]!.path) throw new Error(`Two files would be /${sorted[i]!.path} in one layer.`);
  }
  const directories = new Set<string>();
  for (const f of sorted) {
    for (let dir = posix.dirname(f.path); dir !== "." && dir !== "/"; dir = posix.dirname(dir)) directories.add(dir);
  }
  const entries: ({ kind: "dir"; path: string } | { kind: "file"; file: LayerFile })[] = [
    ...[...directories].map((path) => ({ kind: "dir" as const, path })),
    ...sorted.map((file) => ({ kind: "file" as const, file })),
  ].sort((a, b) => {
    const pa = a.kind === "dir" ? a.path : a.file.path;
    const pb = b.kind === "dir" ? b.path : b.file.path;
    return pa < pb ? -1 : pa > pb ? 1 : 0;
  });

  const pack = tarStream.pack();
  const diffHash = createHash("sha256");
  const blobHash = createHash("sha256");
  const size = { bytes: 0 };
  let gzipped = compression === "gzip";
  const tmp = join(blobsDir, `.tmp-${randomUUID()}`);
  const tar = pack.pipe(coalescing());
  pack.once("error", (err) => tar.destroy(err));
  const written = (async () => {
    const sample = compression === "auto" ? await readSample(tar, SAMPLE_BYTES) : undefined;
    if (sample) gzipped = sample.bytes.length > 0 && gzipSync(sample.bytes, { level: 1 }).length < sample.bytes.length * WORTH_COMPRESSING;
    const source = !sample ? tar : sample.ended ? Readable.from([sample.bytes]) : (tar.unshift(sample.bytes), tar);
    await (gzipped
      ? pipeline(source, hashing(diffHash), createGzip({ level: 1, chunkSize: CHUNK }), hashing(blobHash, size), createWriteStream(tmp))
      : pipeline(source, hashing(diffHash, size), createWriteStream(tmp)));
  })();
  // The writing side failing (the disk full) stops the producer too.
  written.catch((err: Error) => pack.destroy(err));
  try {
    for (const e of entries) {
      const header = { uid: 0, gid: 0, uname: "", gname: "", mtime: EPOCH };
      if (e.kind === "dir") {
        await new Promise<void>((resolve, reject) =>
          pack.entry({ ...header, name: `${e.path}/`, type: "directory", mode: 0o755 }, (err) => (err ? reject(err) : resolve())),
        );
        continue;
      }
      const { stream, size } = await e.file.open();
      // Both ends settle this entry: the content failing (a download that stalls or is cut off)
      // and the tar entry refusing it (fewer bytes than announced). pipeline() listens for errors
      // on both streams, so a failing download fails this build, never the process.
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...header, name: e.file.path, type: "file", size, mode: e.file.executable ? 0o755 : 0o644 }, (err) =>
          err ? reject(err) : resolve(),
        );
        pipeline(stream, sink).catch(reject);
      });
    }
    pack.finalize();
    await written;
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  const diffId = `sha256:${diffHash.digest("hex")}`;
  const digest = gzipped ? `sha256:${blobHash.digest("hex")}` : diffId;
  await rename(tmp, join(blobsDir, digest.slice("sha256:".length)));
  return { mediaType: gzipped ? MEDIA.layerGzip : MEDIA.layerTar, digest, size: size.bytes, diffId };
}

/**
 * Reads the first `bytes` of a stream (or all of it, when it is shorter) without ending it: the
 * caller puts them back with `unshift`, unless the stream `ended` within them.
 */
function readSample(stream: Readable, bytes: number): Promise<{ bytes: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const settle = (ended: boolean) => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      resolve({ bytes: Buffer.concat(parts, size), ended });
    };
    const onReadable = () => {
      for (let chunk: Buffer | null; size < bytes && (chunk = stream.read() as Buffer | null) !== null;) {
        parts.push(chunk);
        size += chunk.length;
      }
      if (size >= bytes) settle(false);
    };
    const onEnd = () => settle(true);
    const onError = (err: Error) => reject(err);
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}
