import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import { Account, queryDocumentsHandler, route, writeHandlers, type EmulatedAccount, type RouteHandler } from "./emulator-internals.js";
import { applyEffect, snapshotEffects, type Effect } from "./effects.js";
import { BatchUndo } from "./atomic-batch.js";
import { Journal, readJournal, writeFileAtomically } from "./journal.js";
import { installLinearQueries } from "./linear-queries.js";
import { installPartitionIndexes } from "./partition-index.js";
import { isQueryPlanRequest, queryDocuments, queryPlan } from "./document-queries.js";

interface DurableCosmosOptions {
  /** Directory holding the snapshot and the journal. */
  dataDir: string;
  host?: string;
  port?: number;
  /** Journal size that triggers a snapshot, in bytes. */
  compactAfterBytes?: number;
}

export interface DurableCosmos {
  server: Server;
  endpoint: string;
  port: number;
  /** Number of effects replayed at start. */
  recovered: number;
  close(): Promise<void>;
}

type Doc = Record<string, unknown>;
type Res = { statusCode: number; setHeader(name: string, value: string): void };

/**
 * The Cosmos DB emulator of @vercel/cosmosdb-server, made durable: every write is journaled
 * (group-committed with fdatasync) before its response leaves, and the state is rebuilt from the
 * last snapshot plus the journal on start. A write answered 2xx survives `kill -9`. Queries
 * naming a partition run over that partition, along an index for ORDER BY (document-queries.ts).
 */
export async function startDurableCosmos(options: DurableCosmosOptions): Promise<DurableCosmos> {
  installLinearQueries();
  installPartitionIndexes();
  const host = options.host ?? "127.0.0.1";
  const compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  mkdirSync(options.dataDir, { recursive: true });
  const snapshotPath = join(options.dataDir, "snapshot.jsonl");
  const journalPath = join(options.dataDir, "journal.jsonl");

  const account = new Account(host, 0);
  let recovered = 0;
  for (const path of [snapshotPath, journalPath]) {
    for (const effects of readJournal<Effect[]>(path)) {
      for (const effect of effects) applyEffect(account, effect);
      recovered += effects.length;
    }
  }
  writeSnapshot(account, snapshotPath);
  const journal = await Journal.open<Effect[]>(journalPath);
  await journal.truncate();

  // Writes run their in-memory part one at a time, so the journal's order is the order in
  // which they were applied; the fsync that follows is shared by every write waiting for it.
  let writeLock: Promise<void> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const result = writeLock.then(work);
    writeLock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error("cosmos emulator:", err);
      if (!res.headersSent) res.statusCode = 500;
      res.end(JSON.stringify({ code: "InternalServerError", message: "The emulator failed to handle the request." }));
    });
  });
  // A cross-partition query scans every document, which can hold the event loop for seconds in a
  // large container. With Node's 5 s default, idle keep-alive connections would then be closed
  // the moment the loop comes back, under requests clients had already sent on them (a reset, and
  // a write whose outcome the client cannot know). Keep idle connections far longer than any stall.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const matched = route(req);
    if (!matched) return reply(req, res, 400, { message: "no route" });
    const [params, handler] = matched;
    if (handler === queryDocumentsHandler) {
      const rawBody = await readBody(req);
      if (isQueryPlanRequest(req)) return reply(req, res, 200, queryPlan());
      const body = await queryDocuments(account, req, res, params, rawBody);
      return reply(req, res, res.statusCode, body);
    }
    if (!isWriteHandler(handler)) {
      const body = await runHandler(handler, account, req, res, params);
      return reply(req, res, res.statusCode, body);
    }
    if (isUserDefinedFunctionWrite(handler)) {
      return reply(req, res, 501, { message: "The durable emulator does not journal user-defined functions." });
    }
    const rawBody = await readBody(req);
    const replayable = Object.assign(Readable.from(rawBody.length ? [rawBody] : []), {
      headers: req.headers,
      method: req.method,
      url: req.url,
    }) as unknown as IncomingMessage;
    const { body, durable } = await serialized(async () => {
      const undo = atomicBatchUndo(account, handler, params, req, rawBody);
      const body = await runHandler(handler, account, replayable, res, params);
      // A failed batch leaves nothing applied (and nothing to journal), as in Cosmos DB.
      const rolledBack = undo !== undefined && BatchUndo.failed(body);
      if (rolledBack) undo.undo();
      const effects = rolledBack ? [] : effectsOf(handler, params, req, parseJson(rawBody), res.statusCode, body);
      const durable = effects.length ? journal.append(effects) : Promise.resolve();
      return { body, durable };
    });
    try {
      await durable;
    } catch (err) {
      // The change is in memory but not on disk: answering would acknowledge a write that a
      // crash can lose. Stop here; the state on disk is the last acknowledged one.
      console.error("cosmos emulator: the journal could not be written, stopping:", err);
      process.exit(70);
    }
    if (journal.bytes > compactAfterBytes) void serialized(() => compact());
    return reply(req, res, res.statusCode, body);
  }

  async function compact(): Promise<void> {
    await journal.drain();
    writeSnapshot(account, snapshotPath);
    await journal.truncate();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const endpoint = `http://${host}:${port}/`;
  advertiseEndpoint(account, endpoint);

  return {
    server,
    endpoint,
    port,
    recovered,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await serialized(() => journal.close());
    },
  };
}

const writeHandlerSet = new Set<unknown>(Object.values(writeHandlers));
const isWriteHandler = (h: unknown): boolean => writeHandlerSet.has(h);
const isUserDefinedFunctionWrite = (h: unknown): boolean =>
  h === writeHandlers.createUserDefinedFunction ||
  h === writeHandlers.upsertUserDefinedFunction ||
  h === writeHandlers.replaceUserDefinedFunction ||
  h === writeHandlers.deleteUserDefinedFunction;

/** What a write request changed, read from its route, request and result. */
function effectsOf(
  handler: unknown,
  params: Record<string, string>,
  req: IncomingMessage,
  requestBody: unknown,
  status: number,
  result: unknown,
): Effect[] {
  const ok = status >= 200 && status < 300;
  if (!ok) return [];
  const db = params.dbId ?? "";
  const coll = params.collId ?? "";
  switch (handler) {
    case writeHandlers.createDatabase:
      return [{ k: "db", body: result as Doc }];
    case writeHandlers.deleteDatabase:
      return [{ k: "dbdel", db }];
    case writeHandlers.createCollection:
    case writeHandlers.replaceCollection:
      return [{ k: "coll", db, body: result as Doc }];
    case writeHandlers.deleteCollection:
      return [{ k: "colldel", db, coll }];
    case writeHandlers.createDocument:
    case writeHandlers.upsertDocument:
    case writeHandlers.replaceDocument:
    case writeHandlers.patchDocument:
      return [{ k: "doc", db, coll, body: result as Doc }];
    case writeHandlers.deleteDocument:
      return [{ k: "docdel", db, coll, id: params.docId ?? "", pk: req.headers["x-ms-documentdb-partitionkey"] }];
    case writeHandlers.batchDocuments: {
      const operations = Array.isArray(requestBody) ? (requestBody as Doc[]) : [];
      const results = Array.isArray(result) ? (result as Doc[]) : [];
      const effects: Effect[] = [];
      results.forEach((r, i) => {
        const op = operations[i];
        const code = Number(r.statusCode);
        if (!op || code < 200 || code >= 300) return;
        if (op.operationType === "Delete") effects.push({ k: "docdel", db, coll, id: String(op.id), pk: op.partitionKey });
        else if (op.operationType !== "Read" && r.resourceBody) effects.push({ k: "doc", db, coll, body: r.resourceBody as Doc });
      });
      return effects;
    }
    default:
      return [];
  }
}

/** For a transactional batch (not a bulk request) on an existing container: what undoes it. */
function atomicBatchUndo(
  account: EmulatedAccount,
  handler: unknown,
  params: Record<string, string>,
  req: IncomingMessage,
  rawBody: Buffer,
): BatchUndo | undefined {
  if (handler !== writeHandlers.batchDocuments || String(req.headers["x-ms-cosmos-batch-atomic"]).toLowerCase() !== "true")
    return undefined;
  const collection = account.database(params.dbId ?? "").collection(params.collId ?? "");
  if (!collection.read()) return undefined;
  return new BatchUndo(collection, parseJson(rawBody));
}

async function runHandler(
  handler: RouteHandler,
  account: EmulatedAccount,
  req: IncomingMessage,
  res: Res,
  params: Record<string, string>,
): Promise<unknown> {
  try {
    return await handler(account, req, res, params);
  } catch (err) {
    res.statusCode = 500;
    return { message: err instanceof Error ? err.message : String(err) };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Response headers as the emulator's own server sets them (the SDK reads etag and charge). */
function reply(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  let payload = body ?? {};
  if (status > 399 && typeof payload === "object" && payload !== null && !("message" in payload)) {
    payload = { ...payload, message: "" };
  }
  const etag = (payload as Doc)._etag;
  if (typeof etag === "string") res.setHeader("etag", etag);
  res.setHeader("content-type", "application/json");
  res.setHeader("content-location", `http://${req.headers.host ?? ""}${req.url ?? ""}`);
  res.setHeader("x-ms-activity-id", randomUUID());
  res.setHeader("x-ms-request-charge", "1");
  if (req.headers["a-im"] && status === 200) {
    if (req.headers["if-none-match"]) res.statusCode = 304;
    res.setHeader("etag", "1");
  }
  res.end(JSON.stringify(payload));
}

/** The account document names its endpoints; the SDK then talks to them, so they must be ours. */
function advertiseEndpoint(account: EmulatedAccount, endpoint: string): void {
  const meta = account.read();
  if (!meta) return;
  const locations = [{ name: "Local", databaseAccountEndpoint: endpoint }];
  meta.writableLocations = locations;
  meta.readableLocations = locations;
}

function writeSnapshot(account: EmulatedAccount, path: string): void {
  function* lines(): Generator<string> {
    for (const effect of snapshotEffects(account)) yield JSON.stringify([effect]) + "\n";
  }
  writeFileAtomically(path, lines());
}
