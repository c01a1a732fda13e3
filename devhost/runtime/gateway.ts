import { createHash, timingSafeEqual } from "node:crypto";
import { Agent, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { ServiceController } from "./service-controller.js";
import type { Replica } from "./replica.js";
import type { DataCollector } from "./data-collector.js";
import { randomUUID } from "node:crypto";
import { ReplicaClient, ReplicaTimeout, headOf } from "./replica-client.js";

/** Requests may wait this long for a free replica before a 503. */
const QUEUE_WAIT_MS = 5_000;
/** About 10 requests queue per replica (the 2017 default). */
const QUEUE_PER_REPLICA = 10;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** Request bodies up to this size are read whole before a replica is taken, and sent in one write. */
const SMALL_BODY = 64 * 1024;
/** What data collection records of a request and its answer, at most. */
const RECORD_LIMIT = 1 << 20;

export interface GatewayOptions {
  /** A request's deadline: past it the client gets 504 and the replica, stuck in run(), is recycled. */
  requestTimeoutMs: number;
  /** The largest request body taken (the scoring server's own limit); larger ones get 413. */
  maxBodyBytes: number;
}

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Whether a presented key matches one of the service's: compared in constant time, on hashes. */
export function keyMatches(presented: string, hashes: string[]): boolean {
  const candidate = Buffer.from(hashKey(presented), "hex");
  let match = false;
  for (const h of hashes) {
    const stored = Buffer.from(h, "hex");
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate)) match = true;
  }
  return match;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The scoring gateway: `POST /api/v1/service/<name>/score` with `Authorization: Bearer <key>`
 * (a missing or wrong key is a 401 and never reaches a replica) and `GET …/swagger.json`,
 * round-robin over healthy replicas, at most `maxConcurrentRequestsPerContainer` in flight per
 * replica; the excess waits in a short bounded queue, then gets a 503 with Retry-After.
 *
 * A request holds a replica's slot only while the replica works on it: small bodies (and chunked
 * ones, read whole up to the limit) are read before a replica is taken, so a slow or abandoned
 * upload holds nothing; a large body streams, and a client that goes away frees the slot at once.
 * Every request has a deadline, after which the client gets 504 and the replica is recycled.
 */
export function createGateway(services: Map<string, ServiceController>, options: GatewayOptions, collector?: DataCollector) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawPath = req.url ?? "/";
    const pathname = rawPath.includes("?") ? rawPath.slice(0, rawPath.indexOf("?")) : rawPath;
    const m = /^\/api\/v1\/service\/([^/]+)\/(score|swagger\.json)$/.exec(pathname);
    if (!m) return refuse(req, res, 404, `No such endpoint: ${pathname}`);
    const [, name, what] = m;
    const service = services.get(decodeURIComponent(name!));
    if (!service) return refuse(req, res, 404, `No service named ${name}.`);
    if (what === "score" && req.method !== "POST") return refuse(req, res, 405, "Score with POST.", { allow: "POST" });
    if (what === "swagger.json" && req.method !== "GET") return refuse(req, res, 405, "Use GET.", { allow: "GET" });
    if (what === "score") {
      const auth = req.headers.authorization ?? "";
      const key = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!key || !keyMatches(key, service.spec.keyHashes)) {
        const why = key ? "The key is not valid for this service." : "Authorization: Bearer <service key> is required.";
        return refuse(req, res, 401, why, { "www-authenticate": 'Bearer realm="scoring"' });
      }
    }
    const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    if (declared !== undefined && declared > options.maxBodyBytes) return refuseBody(req, res, options.maxBodyBytes);
    // Small and chunked bodies first, before any replica is taken.
    let body: Buffer | undefined;
    if (declared === undefined || declared <= SMALL_BODY) {
      try {
        body = await readBody(req, options.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) return refuseBody(req, res, options.maxBodyBytes);
        return; // The client went away: nothing to answer.
      }
    }
    const replica = await acquire(service);
    if (!replica) {
      const why = service.healthyReplicas() ? "The service is busy; try again shortly." : "The service has no healthy replica right now.";
      return refuse(req, res, 503, why, { "retry-after": "1" });
    }
    const collect = what === "score" && collector && service.spec.dataCollection;
    // One id for the request's body and answer and for the rows the driver collects while scoring it.
    const requestId = collect ? randomUUID() : undefined;
    const path = what === "score" ? "/score" : "/swagger.json";
    const recorded = body
      ? await forwardWhole(req, res, replica, path, body, requestId, options)
      : await forwardStreaming(req, res, replica, path, requestId, options);
    if (collect && recorded && recorded.status === 200) collector.record(collect, requestId!, recorded.input, recorded.output);
  };
}

/** An answer that is not the replica's; whatever is left of the request is read and dropped. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  req.resume();
  reply(res, status, { error }, headers);
}

/** What of a refused body is still read (so that the client, still sending, sees the 413), and for how long. */
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 5_000;

/**
 * A 413 for a body over the limit. The connection closes after it; until then a bounded amount of
 * what the client is still sending is read and dropped: closing at once would reset the
 * connection under a client that has not finished writing, and it would see EPIPE, not the 413.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse, max: number): void {
  let drained = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.socket.once("close", () => clearTimeout(timer));
  req.removeAllListeners("data");
  req.on("data", (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_BYTES) cut();
  });
  req.resume();
  reply(res, 413, { error: `The request body is larger than ${max} bytes.` }, { connection: "close" });
}

/** A replica with room, waiting in the bounded queue when all are busy. */
async function acquire(service: ServiceController): Promise<Replica | undefined> {
  let replica = service.pick();
  if (replica) {
    replica.inFlight++;
    return replica;
  }
  const limit = Math.max(1, service.healthyReplicas()) * QUEUE_PER_REPLICA;
  if (service.waiting >= limit) return undefined;
  service.waiting++;
  try {
    const deadline = Date.now() + QUEUE_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      replica = service.pick();
      if (replica) {
        replica.inFlight++;
        return replica;
      }
    }
    return undefined;
  } finally {
    service.waiting--;
  }
}

/** What passed through, when asked to record it (for data collection; bounded to 1 MiB each way). */
interface Recorded {
  status: number;
  input: string;
  output: string;
}

class BodyTooLarge extends Error {}

/** The whole body, chunked or not, up to `max` bytes; rejects when the client goes away first. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        return reject(new BodyTooLarge());
      }
      chunks.push(c);
    });
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("the client went away"));
    });
  });
}

const replicas = new ReplicaClient();

/** The request outlived its deadline: the client gets 504 (or, mid-answer, a cut), the replica stuck in run() is recycled. */
function deadlinePassed(res: ServerResponse, replica: Replica, options: GatewayOptions): void {
  const seconds = options.requestTimeoutMs / 1000;
  replica.recycle(`a request outlived its ${seconds} s deadline`);
  if (!res.headersSent) reply(res, 504, { error: `The service did not answer within ${seconds} s.` });
  else res.destroy();
}

/** The replica failed the request: 502 (or, mid-answer, a cut). */
function replicaFailed(res: ServerResponse, err: unknown): void {
  if (!res.headersSent) reply(res, 502, { error: `The replica failed: ${err instanceof Error ? err.message : String(err)}` });
  else res.destroy();
}

async function forwardWhole(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  body: Buffer,
  requestId: string | undefined,
  options: GatewayOptions,
): Promise<Recorded | undefined> {
  try {
    const contentType = req.headers["content-type"] ?? "application/json";
    const answer = await replicas.send(replica.port, req.method ?? "POST", path, contentType, body, {
      requestId,
      timeoutMs: options.requestTimeoutMs,
    });
    res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": answer.length });
    for (const piece of answer.body) res.write(piece);
    res.end();
    if (requestId === undefined) return undefined;
    return {
      status: answer.status,
      input: body.subarray(0, RECORD_LIMIT).toString("utf8"),
      output: headOf(answer.body, RECORD_LIMIT).toString("utf8"),
    };
  } catch (err) {
    if (err instanceof ReplicaTimeout) deadlinePassed(res, replica, options);
    else replicaFailed(res, err);
    return undefined;
  } finally {
    replica.inFlight--;
  }
}

/** A large body streams to the replica, and the answer back; the slot is freed once, however it ends. */
function forwardStreaming(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  requestId: string | undefined,
  options: GatewayOptions,
): Promise<Recorded | undefined> {
  const record = requestId !== undefined;
  const input: Buffer[] = [];
  const output: Buffer[] = [];
  let status = 0;
  if (record) recorder(req, input);
  return new Promise((resolve) => {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      replica.inFlight--;
      resolve(
        record ? { status, input: Buffer.concat(input).toString("utf8"), output: Buffer.concat(output).toString("utf8") } : undefined,
      );
    };
    const headers: Record<string, string> = {
      "content-type": req.headers["content-type"] ?? "application/json",
      "content-length": req.headers["content-length"] ?? "0",
      ...(requestId ? { "x-ms-request-id": requestId } : {}),
    };
    const upstream = request({ host: "127.0.0.1", port: replica.port, method: req.method, path, headers, agent }, (up) => {
      status = up.statusCode ?? 0;
      if (record) recorder(up, output);
      const length = up.headers["content-length"];
      res.writeHead(status || 502, {
        "content-type": up.headers["content-type"] ?? "application/json",
        ...(length !== undefined ? { "content-length": length } : {}),
      });
      up.pipe(res);
      up.once("end", done);
      up.once("error", () => {
        res.destroy();
        done();
      });
    });
    const timer = setTimeout(() => {
      if (finished) return;
      upstream.destroy();
      deadlinePassed(res, replica, options);
      done();
    }, options.requestTimeoutMs);
    upstream.once("error", (err) => {
      replicaFailed(res, err);
      done();
    });
    // A client that goes away mid-upload (or mid-answer) frees the slot at once.
    req.once("close", () => {
      if (req.complete && !res.destroyed) return;
      upstream.destroy();
      done();
    });
    res.once("close", () => {
      if (res.writableFinished) return;
      upstream.destroy();
      done();
    });
    req.pipe(upstream);
  });
}

function recorder(stream: NodeJS.ReadableStream, into: Buffer[]): void {
  let size = 0;
  stream.on("data", (c: Buffer) => {
    if (size < RECORD_LIMIT) into.push(c);
    size += c.length;
  });
}
