import { createHash, timingSafeEqual } from "node:crypto";
import { Agent, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { ServiceController } from "./service-controller.js";
import type { Replica } from "./replica.js";
import type { DataCollector } from "./data-collector.js";
import { randomUUID } from "node:crypto";
import { ReplicaClient } from "./replica-client.js";

/** Requests may wait this long for a free replica before a 503. */
const QUEUE_WAIT_MS = 5_000;
/** About 10 requests queue per replica (the 2017 default). */
const QUEUE_PER_REPLICA = 10;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Whether a presented key matches one of the service's: compared in constant time, on hashes. */
function keyMatches(presented: string, hashes: string[]): boolean {
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
 */
export function createGateway(services: Map<string, ServiceController>, collector?: DataCollector) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawPath = req.url ?? "/";
    const pathname = rawPath.includes("?") ? rawPath.slice(0, rawPath.indexOf("?")) : rawPath;
    const m = /^\/api\/v1\/service\/([^/]+)\/(score|swagger\.json)$/.exec(pathname);
    if (!m) return reply(res, 404, { error: `No such endpoint: ${pathname}` });
    const [, name, what] = m;
    const service = services.get(decodeURIComponent(name!));
    if (!service) return reply(res, 404, { error: `No service named ${name}.` });
    if (what === "score" && req.method !== "POST") return reply(res, 405, { error: "Score with POST." }, { allow: "POST" });
    if (what === "swagger.json" && req.method !== "GET") return reply(res, 405, { error: "Use GET." }, { allow: "GET" });
    if (what === "score") {
      const auth = req.headers.authorization ?? "";
      const key = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!key || !keyMatches(key, service.spec.keyHashes)) {
        req.resume();
        return reply(
          res,
          401,
          { error: key ? "The key is not valid for this service." : "Authorization: Bearer <service key> is required." },
          { "www-authenticate": 'Bearer realm="scoring"' },
        );
      }
    }
    const replica = await acquire(service);
    if (!replica) {
      req.resume();
      return reply(
        res,
        503,
        { error: service.healthyReplicas() ? "The service is busy; try again shortly." : "The service has no healthy replica right now." },
        { "retry-after": "1" },
      );
    }
    const collect = what === "score" && collector && service.spec.dataCollection;
    // One id for the request's body and answer and for the rows the driver collects while scoring it.
    const requestId = collect ? randomUUID() : undefined;
    const recorded = await forward(req, res, replica, what === "score" ? "/score" : "/swagger.json", requestId);
    if (collect && recorded && recorded.status === 200) collector.record(collect, requestId!, recorded.input, recorded.output);
  };
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

const RECORD_LIMIT = 1 << 20;
const SMALL_BODY = 64 * 1024;

function recorder(stream: NodeJS.ReadableStream, into: Buffer[]): void {
  let size = 0;
  stream.on("data", (c: Buffer) => {
    if (size < RECORD_LIMIT) into.push(c);
    size += c.length;
  });
}

const replicas = new ReplicaClient();

/**
 * Forwards a request to a replica: small bodies (the usual scoring request) whole, anything else
 * streamed. With a `requestId` (the service collects model data) what passed is recorded too.
 */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  requestId: string | undefined,
): Promise<Recorded | undefined> {
  const length = Number(req.headers["content-length"] ?? -1);
  if (length >= 0 && length <= SMALL_BODY) return forwardWhole(req, res, replica, path, requestId);
  return forwardStreaming(req, res, replica, path, requestId);
}

async function forwardWhole(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  requestId: string | undefined,
): Promise<Recorded | undefined> {
  const record = requestId !== undefined;
  try {
    const body = await readWhole(req);
    let answer;
    try {
      answer = await replicas.send(
        replica.port,
        req.method ?? "POST",
        path,
        req.headers["content-type"] ?? "application/json",
        body,
        requestId,
      );
    } catch (err) {
      reply(res, 502, { error: `The replica failed: ${err instanceof Error ? err.message : String(err)}` });
      return undefined;
    }
    res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": answer.body.length });
    res.end(answer.body);
    return record
      ? {
          status: answer.status,
          input: body.subarray(0, RECORD_LIMIT).toString("utf8"),
          output: answer.body.subarray(0, RECORD_LIMIT).toString("utf8"),
        }
      : undefined;
  } finally {
    replica.inFlight--;
  }
}

function readWhole(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function forwardStreaming(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  requestId: string | undefined,
): Promise<Recorded | undefined> {
  const record = requestId !== undefined;
  const input: Buffer[] = [];
  const output: Buffer[] = [];
  let status = 0;
  if (record) recorder(req, input);
  return new Promise((resolve) => {
    const done = () => {
      replica.inFlight--;
      resolve(
        record ? { status, input: Buffer.concat(input).toString("utf8"), output: Buffer.concat(output).toString("utf8") } : undefined,
      );
    };
    const headers: Record<string, string> = {
      "content-type": req.headers["content-type"] ?? "application/json",
      ...(requestId ? { "x-ms-request-id": requestId } : {}),
    };
    if (req.headers["content-length"]) headers["content-length"] = req.headers["content-length"];
    const upstream = request({ host: "127.0.0.1", port: replica.port, method: req.method, path, headers, agent }, (up) => {
      status = up.statusCode ?? 0;
      if (record) recorder(up, output);
      const contentType = up.headers["content-type"] ?? "application/json";
      const length = up.headers["content-length"];
      up.once("error", () => {
        res.destroy();
        done();
      });
      res.writeHead(status || 502, { "content-type": contentType, ...(length !== undefined ? { "content-length": length } : {}) });
      up.pipe(res);
      up.once("end", done);
    });
    upstream.once("error", (err) => {
      if (!res.headersSent) reply(res, 502, { error: `The replica failed: ${err.message}` });
      else res.destroy();
      done();
    });
    req.pipe(upstream);
  });
}
