import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import type { RpcLogLevel } from "./core-types.js";

/** One Event Grid subscription of the local host: new blobs of a container, to a function. */
interface BlobEventSubscription {
  container: string;
  functionName: string;
}

/** `models=modelBlobCreated,other=fn`: the LOCAL_BLOB_EVENTS setting. */
export function parseBlobEventSubscriptions(setting: string | undefined): BlobEventSubscription[] {
  return (setting ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([a-z0-9](?:[a-z0-9]|-(?!-)){2,62})=([A-Za-z][\w-]*)$/.exec(entry);
      if (!m) throw new Error(`LOCAL_BLOB_EVENTS: "${entry}" is not <container>=<functionName>.`);
      return { container: m[1]!, functionName: m[2]! };
    });
}

interface AzuriteBlobEventsOptions {
  blobs: BlobServiceClient;
  subscriptions: BlobEventSubscription[];
  /** The host's own base URL: events are POSTed to its Event Grid webhook, as Event Grid does. */
  hostBaseUrl: string;
  /** The webhook's key (`code`), as an Event Grid subscription's endpoint URL carries it. */
  eventGridKey: string;
  /** Which blob versions were delivered, so a restart neither loses nor repeats events. */
  stateFile: string;
  pollMs?: number;
  log(level: RpcLogLevel, category: string, msg: string): void;
}

/**
 * What was seen of a blob: its ETag, and what tells a write of its bytes from a write of its
 * metadata or headers (which Azure does not announce as BlobCreated, though the ETag changes).
 * Older state files hold the ETag alone.
 */
interface SeenBlob {
  eTag: string;
  md5?: string;
  length?: number;
  /** The metadata and HTTP headers, as one string. */
  properties?: string;
}

type DeliveredState = Record<string, Record<string, SeenBlob | string>>;

/** Whether the change from `before` to `now` wrote the blob's bytes, rather than only its metadata or headers. */
function contentWritten(before: SeenBlob, now: SeenBlob): boolean {
  if (before.length !== undefined && now.length !== undefined && before.length !== now.length) return true;
  // Content-MD5, where both writes left one, says it; else a new ETag with the same metadata and
  // headers can only come from the bytes. (A rewrite of the very same bytes, which Azure would
  // announce, is not: it would register the same content again.)
  if (before.md5 && now.md5) return before.md5 !== now.md5;
  return before.properties === undefined || before.properties === now.properties;
}

const MAX_BACKOFF_MS = 5 * 60_000;
/** Last-Modified has whole seconds: a blob written in the second before the start may be newer than it. */
const LAST_MODIFIED_SLACK_MS = 2000;

/**
 * What an Event Grid system topic on a storage account does, for Azurite, which raises no events:
 * it lists each subscribed container every second, and for every blob created, or whose bytes
 * were written again, since it last looked, it POSTs a `Microsoft.Storage.BlobCreated` event
 * (Event Grid schema, the shape Azure sends) to the host's webhook. A write of metadata or headers
 * alone changes the ETag but is not announced, as in Azure; nor are the blobs already there when
 * it first runs without a state file (Azure sends events from the subscription on, never for
 * what came before). Like Event Grid it delivers at least once: a delivery that fails (a non-2xx
 * answer) is retried with growing back-off; one that succeeded is recorded.
 */
export class AzuriteBlobEvents {
  readonly #pollMs: number;
  readonly #delivered: DeliveredState;
  readonly #retryAt = new Map<string, { at: number; delayMs: number }>();
  readonly #created = new Set<string>();
  /** Set when there was no state file: blobs already there are not announced (Azure never back-fills). */
  readonly #startedFresh: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(private readonly options: AzuriteBlobEventsOptions) {
    this.#pollMs = options.pollMs ?? 1000;
    const known = existsSync(options.stateFile);
    this.#delivered = known ? (JSON.parse(readFileSync(options.stateFile, "utf8")) as DeliveredState) : {};
    this.#startedFresh = known ? undefined : Date.now();
  }

  start(): void {
    const tick = (): void => {
      this.#running = this.#pollAll().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#pollMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #pollAll(): Promise<void> {
    for (const subscription of this.options.subscriptions) {
      try {
        await this.#poll(subscription);
      } catch (err) {
        this.options.log(
          "warning",
          "system:eventgrid",
          `Could not list container ${subscription.container}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  async #poll(subscription: BlobEventSubscription): Promise<void> {
    const container = this.options.blobs.getContainerClient(subscription.container);
    if (!this.#created.has(subscription.container)) {
      await container.createIfNotExists();
      this.#created.add(subscription.container);
    }
    const delivered = (this.#delivered[subscription.container] ??= {});
    const present = new Set<string>();
    let changed = false;
    for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
      if (this.#stopped) break;
      present.add(blob.name);
      const p = blob.properties;
      const eTag = unquote(p.etag ?? "");
      const stored = delivered[blob.name];
      const before = typeof stored === "string" ? { eTag: stored } : stored;
      // Most blobs are unchanged at each look: compared by ETag alone, before anything else.
      if (before?.eTag === eTag) continue;
      const seen: SeenBlob = {
        eTag,
        ...(p.contentMD5 ? { md5: Buffer.from(p.contentMD5).toString("base64") } : {}),
        ...(p.contentLength !== undefined ? { length: p.contentLength } : {}),
        properties: JSON.stringify([
          blob.metadata ?? {},
          p.contentType,
          p.contentEncoding,
          p.contentLanguage,
          p.cacheControl,
          p.contentDisposition,
        ]),
      };
      const quiet =
        before !== undefined
          ? !contentWritten(before, seen) // a metadata or header write
          : this.#startedFresh !== undefined && p.lastModified.getTime() < this.#startedFresh - LAST_MODIFIED_SLACK_MS; // there before we looked
      if (quiet) {
        delivered[blob.name] = seen;
        changed = true;
        continue;
      }
      const key = `${subscription.container}/${blob.name}@${eTag}`;
      const retry = this.#retryAt.get(key);
      if (retry && retry.at > Date.now()) continue;
      const event = blobCreatedEvent(container, blob.name, eTag, blob.properties);
      if (await this.#deliver(subscription.functionName, event)) {
        delivered[blob.name] = seen;
        this.#retryAt.delete(key);
        changed = true;
      } else {
        const delayMs = Math.min(MAX_BACKOFF_MS, (retry?.delayMs ?? 500) * 2);
        this.#retryAt.set(key, { at: Date.now() + delayMs, delayMs });
      }
    }
    // A deleted blob forgets its ETag: created again, it is new again.
    for (const name of Object.keys(delivered)) {
      if (!present.has(name) && !this.#stopped) {
        delete delivered[name];
        changed = true;
      }
    }
    if (changed) this.#save();
  }

  async #deliver(functionName: string, event: object): Promise<boolean> {
    const url = `${this.options.hostBaseUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}&code=${encodeURIComponent(this.options.eventGridKey)}`;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
        body: JSON.stringify([event]),
      });
      await res.arrayBuffer();
      if (res.ok) return true;
      this.options.log("warning", "system:eventgrid", `Delivery to ${functionName} answered ${res.status}; it will be retried.`);
    } catch (err) {
      this.options.log(
        "warning",
        "system:eventgrid",
        `Delivery to ${functionName} failed (${err instanceof Error ? err.message : String(err)}); it will be retried.`,
      );
    }
    return false;
  }

  #save(): void {
    const tmp = `${this.options.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#delivered));
    renameSync(tmp, this.options.stateFile);
  }
}

/** A BlobCreated event as Azure Storage's system topic sends it (Event Grid schema). */
function blobCreatedEvent(
  container: ContainerClient,
  name: string,
  eTag: string,
  properties: { contentType?: string; contentLength?: number; lastModified: Date; blobType?: string },
): object {
  const accountName = container.accountName;
  const url = container.getBlobClient(name).url;
  return {
    id: randomUUID(),
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/${accountName}`,
    subject: `/blobServices/default/containers/${container.containerName}/blobs/${name}`,
    eventType: "Microsoft.Storage.BlobCreated",
    eventTime: properties.lastModified.toISOString(),
    dataVersion: "",
    metadataVersion: "1",
    data: {
      api: "PutBlockList",
      clientRequestId: randomUUID(),
      requestId: randomUUID(),
      eTag,
      contentType: properties.contentType ?? "application/octet-stream",
      contentLength: properties.contentLength ?? 0,
      blobType: properties.blobType ?? "BlockBlob",
      url,
      sequencer: properties.lastModified.getTime().toString(16).padStart(32, "0"),
      storageDiagnostics: { batchId: randomUUID() },
    },
  };
}

function unquote(eTag: string): string {
  return eTag.replace(/^"|"$/g, "");
}
