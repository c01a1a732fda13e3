import { createReadStream, createWriteStream, mkdirSync, openSync, readSync, closeSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import tarStream from "tar-stream";
import yauzl from "yauzl";
import { BuildFailure } from "./build-failure.js";

interface UnpackLimits {
  /** Total bytes the archive may unpack to (a bound against archive bombs). */
  maxBytes: number;
  maxEntries: number;
}

const DEFAULT_UNPACK_LIMITS: UnpackLimits = { maxBytes: 20 * 1024 ** 3, maxEntries: 100_000 };

type Kind = "tar" | "tar.gz" | "zip";

/** Tells a tar, tar.gz or zip archive by its first bytes, whatever its name or MIME type says. */
function archiveKind(file: string): Kind | undefined {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(512);
    const n = readSync(fd, head, 0, 512, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
    if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return "zip";
    if (n >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Unpacks a tar, tar.gz or zip archive into `dest`. No entry may land outside `dest` (absolute
 * paths and `..` are refused), links and devices are refused, and the total size and entry count
 * are bounded. Failures are BuildFailures naming the archive and the entry.
 */
export async function unpackArchive(file: string, dest: string, name: string, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): Promise<void> {
  const kind = archiveKind(file);
  if (!kind) throw new BuildFailure("BadArchive", `${name} is marked unpack: true but is not a tar, tar.gz or zip archive.`);
  const budget = { bytes: 0, entries: 0 };
  try {
    if (kind === "zip") await unpackZip(file, dest, name, limits, budget);
    else
      await unpackTar(kind === "tar.gz" ? createReadStream(file).pipe(createGunzip()) : createReadStream(file), dest, name, limits, budget);
  } catch (err) {
    if (err instanceof BuildFailure) throw err;
    throw new BuildFailure("BadArchive", `${name} could not be unpacked as ${kind}: ${err instanceof Error ? err.message : String(err)}.`);
  }
}

function safeTarget(dest: string, entryName: string, archive: string): string {
  const cleaned = entryName.replace(/\\/g, "/");
  const normal = normalize(cleaned);
  if (isAbsolute(cleaned) || normal === ".." || normal.startsWith(`..${sep}`) || normal.split(sep).includes("..")) {
    throw new BuildFailure("BadArchive", `${archive} has an entry that would escape its directory: "${entryName}".`);
  }
  return join(dest, normal);
}

function counted(limits: UnpackLimits, budget: { bytes: number }, archive: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      budget.bytes += chunk.length;
      if (budget.bytes > limits.maxBytes)
        return done(new BuildFailure("BadArchive", `${archive} unpacks to more than ${limits.maxBytes} bytes.`));
      done(null, chunk);
    },
  });
}

async function unpackTar(
  source: Readable,
  dest: string,
  archive: string,
  limits: UnpackLimits,
  budget: { bytes: number; entries: number },
): Promise<void> {
  const extract = tarStream.extract();
  const done = pipeline(source, extract);
  // Leaving the loop early (a refused entry) ends the pipeline with "premature close": that is
  // this function's own doing, reported by the throw below, not an error of its own.
  done.catch(() => undefined);
  for await (const entry of extract) {
    const { name, type } = entry.header;
    if (++budget.entries > limits.maxEntries)
      throw new BuildFailure("BadArchive", `${archive} has more than ${limits.maxEntries} entries.`);
    const target = safeTarget(dest, name, archive);
    if (type === "directory") {
      mkdirSync(target, { recursive: true });
      entry.resume();
    } else if (type === "file" || type === "contiguous-file") {
      mkdirSync(dirname(target), { recursive: true });
      await pipeline(entry, counted(limits, budget, archive), createWriteStream(target, { mode: (entry.header.mode ?? 0o644) & 0o755 }));
    } else {
      // tar-stream folds pax and GNU long-name headers into the entries; what is left is a link or a device.
      throw new BuildFailure("BadArchive", `${archive} has an entry of type ${type} ("${name}"); only files and directories are unpacked.`);
    }
  }
  await done;
}

function unpackZip(
  file: string,
  dest: string,
  archive: string,
  limits: UnpackLimits,
  budget: { bytes: number; entries: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error("cannot open"));
      const fail = (e: unknown) => {
        zip.close();
        reject(e);
      };
      zip.on("error", fail);
      zip.on("end", () => resolve());
      zip.on("entry", (entry: yauzl.Entry) => {
        try {
          if (++budget.entries > limits.maxEntries)
            throw new BuildFailure("BadArchive", `${archive} has more than ${limits.maxEntries} entries.`);
          const target = safeTarget(dest, entry.fileName, archive);
          const unixMode = (entry.externalFileAttributes >>> 16) & 0o170000;
          if (unixMode === 0o120000)
            throw new BuildFailure(
              "BadArchive",
              `${archive} has a symbolic link ("${entry.fileName}"); only files and directories are unpacked.`,
            );
          if (entry.fileName.endsWith("/")) {
            mkdirSync(target, { recursive: true });
            zip.readEntry();
            return;
          }
          mkdirSync(dirname(target), { recursive: true });
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return fail(e ?? new Error("cannot read entry"));
            pipeline(stream, counted(limits, budget, archive), createWriteStream(target))
              .then(() => zip.readEntry())
              .catch(fail);
          });
        } catch (e) {
          fail(e);
        }
      });
      zip.readEntry();
    });
  });
}
