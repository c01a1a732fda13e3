import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * An append-only log of JSON records with group commit: every record handed to `append` is
 * on disk (written and fdatasync'ed) when its promise resolves. Records appended while a flush
 * is running go out together in the next flush, so one fsync acknowledges many writers.
 */
export class Journal<T> {
  #handle: FileHandle;
  #pending: { line: string; done: () => void; failed: (err: unknown) => void }[] = [];
  #flushing = false;
  #bytes: number;

  private constructor(handle: FileHandle, bytes: number) {
    this.#handle = handle;
    this.#bytes = bytes;
  }

  static async open<T>(path: string): Promise<Journal<T>> {
    const handle = await open(path, "a");
    const { size } = await handle.stat();
    return new Journal<T>(handle, size);
  }

  /** Size of the journal file in bytes, including records not yet flushed. */
  get bytes(): number {
    return this.#bytes;
  }

  append(record: T): Promise<void> {
    const line = JSON.stringify(record) + "\n";
    this.#bytes += Buffer.byteLength(line);
    return new Promise((done, failed) => {
      this.#pending.push({ line, done, failed });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#handle.write(batch.map((p) => p.line).join(""));
        await this.#handle.datasync();
        for (const p of batch) p.done();
      } catch (err) {
        for (const p of batch) p.failed(err);
      }
    }
    this.#flushing = false;
  }

  /** Waits for every appended record to be durable. */
  async drain(): Promise<void> {
    while (this.#flushing || this.#pending.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  /** Empties the journal (after its content went into a snapshot). */
  async truncate(): Promise<void> {
    await this.drain();
    await this.#handle.truncate(0);
    await this.#handle.datasync();
    this.#bytes = 0;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#handle.close();
  }
}

/**
 * Reads the records of a journal file. A last line cut short by a crash was never acknowledged
 * (its fsync had not returned), so it is dropped; a bad line anywhere else is corruption.
 */
export function readJournal<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  const records: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch (err) {
      const isTornTail = i >= lines.length - 2;
      if (!isTornTail) throw new Error(`${path}: line ${i + 1} is not valid JSON (${String(err)})`, { cause: err });
    }
  }
  return records;
}

/** Writes a file so that a crash leaves either the old or the new content, never a mix. */
export function writeFileAtomically(path: string, chunks: Iterable<string>): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    let buffered = "";
    for (const chunk of chunks) {
      buffered += chunk;
      if (buffered.length > 1 << 20) {
        writeSync(fd, buffered);
        buffered = "";
      }
    }
    if (buffered) writeSync(fd, buffered);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(dirname(path), "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
