import { BlobServiceClient, type AppendBlobClient } from "@azure/storage-blob";

const FLUSH_EVERY_MS = 1000;

/** A CSV field: quoted, quotes doubled. */
const csv = (value: string) => `"${value.replace(/"/g, '""')}"`;

/**
 * Model data collection: appends each scored request's input and prediction to append blobs
 * under `modeldata/<prefix>/<inputs|prediction>/<yyyy>/<mm>/<dd>/data.csv`, one prefix per model
 * (the 2017 layout). Lines are batched and written every second: they appear within seconds,
 * and scoring never waits for storage.
 */
export class DataCollector {
  #pending = new Map<string, string[]>();
  #created = new Set<string>();
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly blobs: BlobServiceClient, private readonly log: (m: string) => void) {
    this.#timer = setInterval(() => {
      this.#flushing = this.#flushing.then(() => this.flush());
    }, FLUSH_EVERY_MS);
    this.#timer.unref();
  }

  record(target: { container: string; prefixes: string[] }, requestId: string, input: string, prediction: string): void {
    const now = new Date();
    const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, "0")}/${String(now.getUTCDate()).padStart(2, "0")}`;
    for (const prefix of target.prefixes) {
      this.#add(`${target.container}|${prefix}/inputs/${day}/data.csv`, `${now.toISOString()},${requestId},${csv(input)}\n`);
      this.#add(`${target.container}|${prefix}/prediction/${day}/data.csv`, `${now.toISOString()},${requestId},${csv(prediction)}\n`);
    }
  }

  #add(key: string, line: string): void {
    const lines = this.#pending.get(key) ?? [];
    lines.push(line);
    this.#pending.set(key, lines);
  }

  async flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, lines] of batch) {
      const [container, path] = key.split("|") as [string, string];
      try {
        const blob = await this.#blob(container, path);
        // An append block holds at most 4 MiB; lines are small, so chunk by count.
        for (let i = 0; i < lines.length; i += 1000) {
          const text = lines.slice(i, i + 1000).join("");
          await blob.appendBlock(text, Buffer.byteLength(text));
        }
      } catch (err) {
        this.log(`data collection to ${container}/${path} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async #blob(container: string, path: string): Promise<AppendBlobClient> {
    const client = this.blobs.getContainerClient(container);
    const blob = client.getAppendBlobClient(path);
    if (!this.#created.has(path)) {
      await client.createIfNotExists();
      const created = await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: "text/csv" } });
      if (created.succeeded) await blob.appendBlock("$timestamp,$request_id,data\n", Buffer.byteLength("$timestamp,$request_id,data\n"));
      this.#created.add(path);
    }
    return blob;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#flushing;
    await this.flush();
  }
}
