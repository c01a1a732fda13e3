import { secretsEqual } from "../../shared/crypto/secrets-equal.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { FunctionRegistry, installCoreModule, type HostLog } from "./core-api.js";
import { loadApp } from "./app-loader.js";
import { readHostConfig } from "./host-config.js";
import { HttpTriggers } from "./http-triggers.js";
import { handleEventGridWebhook } from "./eventgrid-webhook.js";
import { QueueListener } from "./queue-listener.js";
import { TimerTrigger } from "./timer-triggers.js";

interface FunctionsHostOptions {
  appDir: string;
  host?: string;
  port: number;
  /** A JWKS file served at `/.well-known/jwks.json` (the local token issuer's public keys). */
  jwksPath?: string;
  /**
   * The largest request body read (the app setting FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, as in
   * Azure; 100 MB when unset). A body is read whole before any function sees it, token checks
   * included, so an app whose requests are small sets it small.
   */
  maxRequestBytes?: number;
  /**
   * The Event Grid extension's system key: a webhook delivery must carry it as `code`, as Azure
   * asks. Unset, deliveries are refused.
   */
  eventGridKey?: string;
  log: HostLog;
}

interface FunctionsHost {
  server: Server;
  baseUrl: string;
  functions: { name: string; trigger: string; detail: string }[];
  close(): Promise<void>;
}

/** Azure's request limit for HTTP triggers (functions-bindings-http-webhook-trigger.md). */
const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;

export class PortInUseError extends Error {}

/**
 * A local Azure Functions host for Node.js v4-model apps: loads the app through the same
 * `@azure/functions-core` seam as the real worker, then serves its HTTP, queue, Event Grid
 * and timer triggers.
 */
export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const registry = new FunctionRegistry(options.log);
  installCoreModule(registry.coreApi());
  await loadApp(options.appDir);
  for (const hook of registry.hooksOf("appStart")) {
    await hook({ hookData: {}, appHookData: {}, functionAppDirectory: options.appDir });
  }

  const config = readHostConfig(options.appDir);
  const http = new HttpTriggers(registry, config.routePrefix);
  const fns = [...registry.functions.values()];
  const queues = fns
    .filter((f) => f.trigger.type.toLowerCase() === "queuetrigger")
    .map((f) => new QueueListener(registry, f, config.queues));
  const timers = fns.filter((f) => f.trigger.type.toLowerCase() === "timertrigger").map((f) => new TimerTrigger(registry, f));
  const jwks = options.jwksPath ? readFileSync(options.jwksPath, "utf8") : undefined;

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      options.log("error", "system:http", String(err instanceof Error ? err.stack : err));
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const body = await readBody(req, options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES);
    if (body === undefined) {
      res.statusCode = 413;
      res.end();
      return;
    }
    if (url.pathname === "/runtime/webhooks/eventgrid" && req.method === "POST") {
      if (!secretsEqual(url.searchParams.get("code"), options.eventGridKey)) {
        res.statusCode = 401;
        res.end();
        return;
      }
      const eventType = req.headers["aeg-event-type"];
      const answer = await handleEventGridWebhook(registry, url, Array.isArray(eventType) ? eventType[0] : eventType, body);
      res.statusCode = answer.status;
      if (answer.body !== undefined) res.setHeader("content-type", "application/json");
      res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
      return;
    }
    if (jwks && url.pathname === "/.well-known/jwks.json" && req.method === "GET") {
      res.setHeader("content-type", "application/json");
      res.setHeader("cache-control", "public, max-age=300");
      res.end(jwks);
      return;
    }
    if (url.pathname === "/" && req.method === "GET") {
      res.setHeader("content-type", "text/plain");
      res.end("The local Functions host is running.\n");
      return;
    }
    if (await http.serve(req, res, url, body)) return;
    res.statusCode = 404;
    res.end();
  }

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new PortInUseError(`Port ${options.port} on ${host} is already in use.`) : err);
    });
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  for (const q of queues) q.start();

  return {
    server,
    baseUrl: `http://${host}:${port}`,
    functions: [
      ...http.routes.map((r) => ({ name: r.name, trigger: "http", detail: `${r.methods.join(",")} /${r.template}` })),
      ...queues.map((q) => ({ name: q.functionName, trigger: "queue", detail: q.queueName })),
      ...fns
        .filter((f) => /^(eventgrid|timer)trigger$/i.test(f.trigger.type))
        .map((f) => ({
          name: f.metadata.name,
          trigger: f.trigger.type.replace(/Trigger$/, ""),
          detail: String(f.trigger.options.schedule ?? `/runtime/webhooks/eventgrid?functionName=${f.metadata.name}`),
        })),
    ],
    async close() {
      // Triggers first: nothing new starts while the server drains its connections.
      const triggers = Promise.all([...queues.map((q) => q.stop()), ...timers.map((t) => t.stop())]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await triggers;
      for (const hook of registry.hooksOf("appTerminate")) await hook({ hookData: {}, appHookData: {} });
    },
  };
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
