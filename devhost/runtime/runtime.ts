import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { secretsEqual } from "../../shared/crypto/secrets-equal.js";
import { writeFileAtomically } from "../cosmos/journal.js";
import { ImageUnpacker } from "./image-unpacker.js";
import { ServiceController, type ControllerDeps, type ServiceSpec } from "./service-controller.js";
import { ServiceEnvironments } from "./service-environments.js";
import { chooseSandbox, type Sandbox } from "./sandbox.js";
import { chooseCgroups, type Cgroups } from "./replica-cgroups.js";
import { createGateway } from "./gateway.js";
import { ConnectionRouter } from "./connection-router.js";
import type { Server as NetServer } from "node:net";
import { DataCollector } from "./data-collector.js";
import { BlobServiceClient } from "@azure/storage-blob";
import { z } from "zod";

/** A blob path prefix a service may write model data under: no dot segments. */
const blobPrefix = z
  .string()
  .min(1)
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."));
const dataCollectionTarget = z.object({
  container: z.string().min(1),
  servicePrefix: blobPrefix,
  models: z.array(z.object({ names: z.array(z.string()), prefix: blobPrefix })),
});

interface RuntimeOptions {
  dataDir: string;
  controlPort: number;
  gatewayPort: number;
  /** The bearer secret the control API requires (the app's LOCAL_RUNTIME_TOKEN). */
  controlToken: string;
  python: string;
  /** Storage for model data collection (the stack's Azurite). */
  storageConnection?: string;
  /** A scoring request's deadline (default 60 s): past it, 504 and the replica recycled. */
  requestTimeoutMs?: number;
  /** RUNTIME_SANDBOX: `bubblewrap`, `none`, or unset for bubblewrap where it works. */
  sandbox?: string | undefined;
  /** How many processes and threads one replica may have (where control groups can bound it). */
  maxProcessesPerReplica?: number;
  /** Whether scoring connections are handed to replicas (default) or every request relayed by the gateway. */
  connectionHandoff?: boolean;
}

/** Processes and threads of one replica: ample for a scoring server and its BLAS threads, far below a fork bomb. */
const DEFAULT_MAX_PROCESSES = 512;

/** The largest scoring request taken: the scoring server's own default limit. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

interface LocalRuntime {
  control: Server;
  /** The scoring port: connections go to a replica whole, or to the gateway (connection-router.ts). */
  gateway: NetServer;
  services: Map<string, ServiceController>;
  /** How replicas are confined, and how their CPU, processes and memory are bounded. */
  sandbox: Sandbox;
  cgroups: Cgroups;
  close(): Promise<void>;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The local compute runtime, the one-machine twin of AKS: a control API (desired state per
 * service, like the Kubernetes API for the AKS target) and the scoring gateway. Desired state is
 * kept on disk and every service is restored when the runtime starts again.
 */
export async function startRuntime(o: RuntimeOptions): Promise<LocalRuntime> {
  mkdirSync(o.dataDir, { recursive: true });
  const statePath = join(o.dataDir, "services.json");
  const services = new Map<string, ServiceController>();
  const unpacker = new ImageUnpacker(join(o.dataDir, "images"));
  const save = () =>
    writeFileAtomically(statePath, [
      JSON.stringify(
        [...services.values()].map((s) => s.spec),
        null,
        2,
      ),
    ]);
  const collector = o.storageConnection
    ? new DataCollector(BlobServiceClient.fromConnectionString(o.storageConnection), (m) => console.error(m))
    : undefined;
  const requestTimeoutMs = o.requestTimeoutMs ?? 60_000;
  const sandbox = chooseSandbox(o.sandbox);
  if (sandbox.warning) console.error(`WARNING: ${sandbox.warning}`);
  const cgroups = chooseCgroups();
  if (cgroups.warning) console.error(`WARNING: ${cgroups.warning}`);
  const deps: ControllerDeps = {
    unpacker,
    specChanged: () => save(),
    sandbox,
    limits: { cgroups, maxProcesses: o.maxProcessesPerReplica ?? DEFAULT_MAX_PROCESSES },
    requestTimeoutMs,
    environments: new ServiceEnvironments({ dir: join(o.dataDir, "environments"), python: o.python }),
    ...(collector ? { collector } : {}),
    ...(o.connectionHandoff === false
      ? {}
      : { connectionReturned: (socket, buffered, reason) => router.returned(socket, buffered, reason) }),
  };

  if (existsSync(statePath)) {
    for (const spec of JSON.parse(readFileSync(statePath, "utf8")) as ServiceSpec[]) {
      const controller = new ServiceController(spec, deps);
      services.set(spec.name, controller);
      controller.apply(spec);
    }
  }

  /** Unpacked images no service runs (desired or active) any more go: they are as large as the images. */
  const removeUnusedImages = async (): Promise<void> => {
    const inUse = new Set([...services.values()].flatMap((s) => [s.spec.image.digest, s.active?.digest ?? s.spec.image.digest]));
    const removed = await unpacker.removeUnused(inUse).catch((err: unknown) => {
      console.error(`Unused unpacked images could not be removed: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    });
    if (removed.length) console.log(`Removed the unpacked images no service runs: ${removed.join(", ")}`);
  };
  void removeUnusedImages();

  const control = createServer((req, res) => {
    handleControl(req, res).catch((err: unknown) => json(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });

  async function handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!secretsEqual(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1], o.controlToken))
      return json(res, 401, { error: "The control API needs its bearer token." });
    const url = new URL(req.url ?? "/", "http://control");
    const m = /^\/v1\/services(?:\/([^/]+))?(?:\/(logs|keys|abandon))?$/.exec(url.pathname);
    if (!m) return json(res, 404, { error: "Not found." });
    const [, name, sub] = m;
    if (!name)
      return req.method === "GET"
        ? json(res, 200, { value: [...services.values()].map((s) => s.status()) })
        : json(res, 405, { error: "Use GET." });
    if (!NAME.test(name)) return json(res, 400, { error: `"${name}" is not a service name.` });
    const service = services.get(name);
    if (sub === "keys") {
      if (!service) return json(res, 404, { error: `No service ${name}.` });
      if (req.method !== "PUT") return json(res, 405, { error: "Use PUT." });
      const body = (await readJson(req)) as { keyHashes?: unknown } | undefined;
      const hashes = body?.keyHashes;
      if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h)))
        return json(res, 400, { error: "keyHashes must be SHA-256 hex digests." });
      // Takes effect at once, with no replica restart: the gateway reads the spec on every request,
      // and the answer waits until the replicas holding handed connections have the new keys.
      await service.setKeys(hashes as string[]);
      save();
      return json(res, 200, service.status());
    }
    if (sub === "abandon") {
      if (!service) return json(res, 404, { error: `No service ${name}.` });
      if (req.method !== "POST") return json(res, 405, { error: "Use POST." });
      const body = (await readJson(req)) as { deploymentId?: unknown; reason?: unknown } | undefined;
      if (typeof body?.deploymentId !== "string" || typeof body.reason !== "string")
        return json(res, 400, { error: "Say which deployment to abandon (deploymentId) and why (reason)." });
      return json(res, 200, await service.abandon(body.deploymentId, body.reason));
    }
    if (sub === "logs") {
      if (!service) return json(res, 404, { error: `No service ${name}.` });
      const tail = Math.min(5000, Math.max(1, Number(url.searchParams.get("tail") ?? 200) || 200));
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      return void res.end(service.logs(tail));
    }
    switch (req.method) {
      case "GET":
        return service ? json(res, 200, service.status()) : json(res, 404, { error: `No service ${name}.` });
      case "PUT": {
        const spec = parseSpec(name, await readJson(req));
        if (typeof spec === "string") return json(res, 400, { error: spec });
        if (service) {
          service.apply(spec);
          void removeUnusedImages(); // an image an earlier update replaced
        } else {
          const controller = new ServiceController(spec, deps);
          services.set(name, controller);
          controller.apply(spec);
        }
        save();
        return json(res, 202, services.get(name)!.status());
      }
      case "DELETE": {
        if (!service) return json(res, 404, { error: `No service ${name}.` });
        services.delete(name);
        save();
        await service.delete();
        await removeUnusedImages();
        return json(res, 200, { deleted: name });
      }
      default:
        return json(res, 405, { error: "Use GET, PUT or DELETE." });
    }
  }

  const gatewayHandler = createGateway(services, { requestTimeoutMs, maxBodyBytes: MAX_BODY_BYTES }, collector);
  const gateway = createServer((req, res) => {
    gatewayHandler(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  gateway.keepAliveTimeout = 65_000;
  const router = new ConnectionRouter(services, gateway);

  await listen(control, o.controlPort);
  await listen(router.server, o.gatewayPort);
  return {
    control,
    gateway: router.server,
    services,
    sandbox,
    cgroups,
    async close() {
      control.close();
      router.server.close();
      gateway.close();
      control.closeAllConnections();
      gateway.closeAllConnections();
      await Promise.all([...services.values()].map((s) => s.delete()));
      cgroups.close();
      await collector?.close();
    },
  };
}

function parseSpec(name: string, body: unknown): ServiceSpec | string {
  const b = body as Partial<ServiceSpec> | undefined;
  if (!b || typeof b !== "object") return "The body must be a service spec.";
  if (typeof b.deploymentId !== "string" || !b.deploymentId) return "deploymentId is required.";
  if (!b.image || typeof b.image.layout !== "string" || typeof b.image.digest !== "string") return "image {layout, digest} is required.";
  if (!Number.isInteger(b.replicas) || (b.replicas ?? -1) < 0) return "replicas must be an integer ≥ 0.";
  if (!Number.isInteger(b.maxConcurrentRequestsPerContainer) || (b.maxConcurrentRequestsPerContainer ?? 0) < 1)
    return "maxConcurrentRequestsPerContainer must be an integer ≥ 1.";
  if (!Array.isArray(b.keyHashes) || !b.keyHashes.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h)))
    return "keyHashes must be SHA-256 hex digests.";
  const a = b.autoscaler;
  if (
    a &&
    !(
      a.minReplicas >= 0 &&
      a.maxReplicas >= Math.max(1, a.minReplicas) &&
      a.targetUtilization > 0 &&
      a.targetUtilization <= 100 &&
      a.refreshPeriodInSeconds >= 1
    )
  )
    return "autoscaler is not valid.";
  const dc = b.dataCollection;
  if (dc && !dataCollectionTarget.safeParse(dc).success) return "dataCollection is not valid.";
  return {
    name,
    deploymentId: b.deploymentId,
    image: b.image,
    replicas: b.replicas!,
    autoscaler: a,
    maxConcurrentRequestsPerContainer: b.maxConcurrentRequestsPerContainer!,
    keyHashes: b.keyHashes,
    env: b.env ?? {},
    ...(dc ? { dataCollection: dc } : {}),
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve(undefined);
      }
    });
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function listen(server: Server | NetServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}
