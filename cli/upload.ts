import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import tarStream from "tar-stream";
import { UPLOAD_CONTAINER, accountBlobPrefix } from "../shared/schemas/storage-layout.js";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../devhost/azurite-account.js";
import { azureCredential } from "./auth.js";
import { CliError } from "./errors.js";
import { byteProgress } from "./progress.js";
import type { AuthSettings, StorageSettings } from "./settings.js";

/** 8 MiB blocks, 8 in flight: enough to fill a link without holding more than 64 MiB. */
const BLOCK_SIZE = 8 * 1024 * 1024;
const CONCURRENCY = 8;

export function blobService(storage: StorageSettings, auth: AuthSettings): BlobServiceClient {
  if (storage.auth === "azurite")
    return new BlobServiceClient(storage.blobEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  if (auth.kind !== "azure")
    throw new CliError("Uploading to an Azure storage account needs an Entra ID sign-in: mm login --endpoint … --scope … --storage ….");
  return new BlobServiceClient(storage.blobEndpoint, azureCredential(auth));
}

interface Uploaded {
  /** The blob's plain URL: the service reads its own storage with its identity, so no SAS is stored. */
  url: string;
  /** True when a folder was packed into a tar.gz (register it with unpack). */
  packed: boolean;
  bytes: number;
  mimeType: string;
}

/**
 * Uploads a file (or a folder, packed on the fly into a tar.gz) into the service's storage under
 * `uploads/<subscription>/<resourceGroup>/<account>/<random>/<name>`, streamed in parallel blocks
 * with a progress bar on a terminal. Nothing is held whole in memory. A folder's files are packed
 * at the archive's top, or, with `keepFolderName`, under the folder's own name (as the 2017 CLI
 * packed `-d` dependencies).
 */
export async function upload(
  blobs: BlobServiceClient,
  accountPath: string,
  path: string,
  verbose: (line: string) => void,
  options: { keepFolderName?: boolean } = {},
): Promise<Uploaded> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or folder.`);
  }
  const container = blobs.getContainerClient(UPLOAD_CONTAINER);
  await container.createIfNotExists().catch((err: unknown) => {
    throw new CliError(
      `Could not reach the storage account at ${blobs.url}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
  });
  const name = info.isDirectory() ? `${basename(resolve(path))}.tar.gz` : basename(path);
  const blobName = `${accountBlobPrefix(accountPath)}${randomUUID()}/${name}`;
  const blob = container.getBlockBlobClient(blobName);
  const started = Date.now();
  let bytes: number;
  const mimeType = info.isDirectory() ? "application/gzip" : mimeTypeOf(name);
  if (info.isDirectory()) {
    const files = await filesUnder(path);
    const total = files.reduce((n, f) => n + f.size, 0);
    const bar = byteProgress(`${name}`, total);
    let read = 0;
    const gz = createGzip({ level: 6 });
    const counted = new PassThrough();
    const top = options.keepFolderName ? `${basename(resolve(path))}/` : "";
    const packing = packFolder(files, top, (n) => bar.update((read += n)))
      .pipe(gz)
      .pipe(counted);
    let sent = 0;
    counted.on("data", (c: Buffer) => (sent += c.length));
    try {
      await blob.uploadStream(packing, BLOCK_SIZE, CONCURRENCY, { blobHTTPHeaders: { blobContentType: mimeType } });
    } finally {
      bar.stop();
    }
    bytes = sent;
    verbose(`packed ${files.length} files (${total} bytes) into ${bytes} bytes`);
  } else {
    const bar = byteProgress(name, info.size);
    try {
      await blob.uploadFile(path, {
        blockSize: BLOCK_SIZE,
        concurrency: CONCURRENCY,
        onProgress: (p) => bar.update(p.loadedBytes),
        blobHTTPHeaders: { blobContentType: mimeType },
      });
    } catch (err) {
      throw new CliError(`Could not upload ${path}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    } finally {
      bar.stop();
    }
    bytes = info.size;
  }
  verbose(`uploaded ${name}: ${bytes} bytes in ${Date.now() - started} ms to ${blob.url}`);
  return { url: blob.url, packed: info.isDirectory(), bytes, mimeType };
}

interface FolderFile {
  path: string;
  name: string;
  size: number;
}

async function filesUnder(root: string): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      // Symbolic links and other special files are left out: an archive of a folder holds its files.
      else if (entry.isFile()) out.push({ path: full, name: relative(root, full).split(sep).join("/"), size: (await stat(full)).size });
    }
  };
  await walk(root);
  return out;
}

/** A tar stream of the files under `top` (a folder name and `/`, or nothing), read one after another from disk. */
function packFolder(files: FolderFile[], top: string, onRead: (bytes: number) => void): Readable {
  const pack = tarStream.pack();
  void (async () => {
    try {
      for (const file of files) {
        const entry = pack.entry({ name: top + file.name, size: file.size, mode: 0o644, mtime: new Date(0) });
        const source = createReadStream(file.path);
        source.on("data", (c) => onRead((c as Buffer).length));
        await pipeline(source, entry);
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return pack as unknown as Readable;
}

const MIME: Record<string, string> = {
  ".py": "text/x-python",
  ".json": "application/json",
  ".yml": "application/x-yaml",
  ".yaml": "application/x-yaml",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".gz": "application/gzip",
  ".tgz": "application/gzip",
  ".tar": "application/x-tar",
  ".zip": "application/zip",
  ".onnx": "application/octet-stream",
};

export function mimeTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && MIME[name.slice(dot).toLowerCase()]) || "application/octet-stream";
}
