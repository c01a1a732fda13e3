import { BlobServiceClient, type AppendBlobClient } from "@azure/storage-blob";
import { z } from "zod";
import type { DataCollectionTarget } from "../../shared/compute/compute-target.js";

const FLUSH_EVERY_MS = 1000;
const MAX_BLOCK_BYTES = 4 * 1024 * 1024;
/** The largest record a driver may send in one collect() call: its rows fit in one append block. */
export const MAX_RECORD_BYTES = 4_000_000;

/** A CSV field: quoted, quotes doubled. */
const csv = (value: string) => `"${value.replace(/"/g, '""')}"`;

/** A CSV field of any plain value: numbers and booleans as they are, text quoted when it must be. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? csv(text) : text;
}

/** What a driver's `ModelDataCollector(model, identifier).collect(data)` sent: one JSON line. */
export const collectedRecord = z.object({
  model: z.string(),
  identifier: z.string(),
  requestId: z.string(),
  correlationId: z.string(),
  time: z.string(),
  columns: z.array(z.string()).nullable(),
  rows: z.array(z.array(z.unknown())),
});
export type CollectedRecord = z.output<typeof collectedRecord>;

/** A path segment made of what a driver chose: no separators, no dot segments. */
function segment(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 128);
  return /^\.*$/.test(clean) ? "_" : clean;
}

/**
 * Model data collection: appends rows to append blobs under
 * `modeldata/<model prefix>/<identifier>/<yyyy>/<mm>/<dd>/data.csv`, one prefix per model (the
 * 2017 layout): what drivers collect (`ModelDataCollector`, identifiers such as `inputs` and
 * `prediction`), and each scored request's body and answer (identifiers `request`, `response`).
 * Lines are batched and written every second: they appear within seconds, and scoring never
 * waits for storage.
 */
export class DataCollector {
  #pending = new Map<string, { header: string; lines: string[] }>();
  #created = new Set<string>();
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly blobs: BlobServiceClient,
    private readonly log: (m: string) => void,
  ) {
    this.#timer = setInterval(() => {
      this.#flushing = this.#flushing.then(() => this.flush());
    }, FLUSH_EVERY_MS);
    this.#timer.unref();
  }

  /** A scored request's body and answer, under every model of the service. */
  record(target: DataCollectionTarget, requestId: string, input: string, prediction: string): void {
    const now = new Date();
    for (const { prefix } of target.models) {
      this.#add(
        target.container,
        `${prefix}/request/${dayOf(now)}/data.csv`,
        "$timestamp,$request_id,data",
        `${now.toISOString()},${requestId},${csv(input)}`,
      );
      this.#add(
        target.container,
        `${prefix}/response/${dayOf(now)}/data.csv`,
        "$timestamp,$request_id,data",
        `${now.toISOString()},${requestId},${csv(prediction)}`,
      );
    }
  }

  /** A driver's collect() call: its rows, under the model it named. */
  collected(target: DataCollectionTarget, record: CollectedRecord): void {
    const time = new Date(record.time);
    const at = Number.isNaN(time.getTime()) ? new Date() : time;
    const model = target.models.find((m) => m.names.includes(record.model)) ?? (target.models.length === 1 ? target.models[0] : undefined);
    const prefix = model ? model.prefix : `${target.servicePrefix}/${segment(record.model)}`;
    const width = record.rows[0]?.length ?? 0;
    const columns = record.columns ?? Array.from({ length: width }, (_, i) => `feature_${i}`);
    const header = ["$timestamp", "$request_id", "$correlation_id", ...columns].map(csvValue).join(",");
    const path = `${prefix}/${segment(record.identifier)}/${dayOf(at)}/data.csv`;
    for (const row of record.rows)
      this.#add(target.container, path, header, [at.toISOString(), record.requestId, record.correlationId, ...row].map(csvValue).join(","));
  }

  #add(container: string, path: string, header: string, line: string): void {
    const key = `${container}|${path}`;
    const pending = this.#pending.get(key) ?? { header, lines: [] };
    pending.lines.push(line + "\n");
    this.#pending.set(key, pending);
  }

  async flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, { header, lines }] of batch) {
      const [container, path] = key.split("|") as [string, string];
      try {
        const blob = await this.#blob(container, path, header);
        for (const text of blocksOf(lines)) await blob.appendBlock(text, Buffer.byteLength(text));
      } catch (err) {
        this.log(`data collection to ${container}/${path} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async #blob(container: string, path: string, header: string): Promise<AppendBlobClient> {
    const client = this.blobs.getContainerClient(container);
    const blob = client.getAppendBlobClient(path);
    if (!this.#created.has(path)) {
      await client.createIfNotExists();
      const created = await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: "text/csv" } });
      if (created.succeeded) await blob.appendBlock(`${header}\n`, Buffer.byteLength(`${header}\n`));
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

function dayOf(d: Date): string {
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** An append block holds at most 4 MiB: lines gathered into blocks under that (a longer line alone). */
function* blocksOf(lines: string[]): Generator<string> {
  let block: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (bytes + size > MAX_BLOCK_BYTES && block.length > 0) {
      yield block.join("");
      block = [];
      bytes = 0;
    }
    block.push(line);
    bytes += size;
  }
  if (block.length > 0) yield block.join("");
}
