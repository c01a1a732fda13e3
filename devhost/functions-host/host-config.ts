import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";

/** The host.json settings this host honours, with the real host's defaults. */
export interface HostConfig {
  routePrefix: string;
  queues: {
    batchSize: number;
    newBatchThreshold: number;
    maxDequeueCount: number;
    visibilityTimeoutMs: number;
    maxPollingIntervalMs: number;
    messageEncoding: "base64" | "none";
  };
  functionTimeoutMs: number | undefined;
}

/**
 * Reads host.json from the app directory. App settings named
 * `AzureFunctionsJobHost__path__to__setting` override it, as in Azure.
 */
export function readHostConfig(appDir: string, env: NodeJS.ProcessEnv = process.env): HostConfig {
  const path = join(appDir, "host.json");
  const json = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
  applyEnvOverrides(json, env);
  const ext = (obj(json.extensions) ?? {}) as Record<string, unknown>;
  const http = obj(ext.http) ?? {};
  const queues = obj(ext.queues) ?? {};
  const batchSize = clamp(num(queues.batchSize) ?? 16, 1, 32);
  return {
    routePrefix: typeof http.routePrefix === "string" ? http.routePrefix.replace(/^\/+|\/+$/g, "") : "api",
    queues: {
      batchSize,
      // The real host's default is batchSize/2 × cores; in-flight work never exceeds batchSize here.
      newBatchThreshold: clamp(num(queues.newBatchThreshold) ?? Math.floor((batchSize / 2) * availableParallelism()), 0, batchSize - 1),
      maxDequeueCount: num(queues.maxDequeueCount) ?? 5,
      visibilityTimeoutMs: timespanMs(queues.visibilityTimeout) ?? 0,
      // 1 min in Azure; 2 s when running locally (QueuesOptions.cs).
      maxPollingIntervalMs: timespanMs(queues.maxPollingInterval) ?? 2000,
      messageEncoding: queues.messageEncoding === "none" ? "none" : "base64",
    },
    functionTimeoutMs: timespanMs(json.functionTimeout),
  };
}

function applyEnvOverrides(json: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const prefix = "AzureFunctionsJobHost__";
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(prefix) || value === undefined) continue;
    const path = key.slice(prefix.length).split("__");
    let node: Record<string, unknown> = json;
    for (const part of path.slice(0, -1)) {
      const existingKey = Object.keys(node).find((k) => k.toLowerCase() === part.toLowerCase()) ?? part;
      node[existingKey] = obj(node[existingKey]) ?? {};
      node = node[existingKey] as Record<string, unknown>;
    }
    const leaf = path[path.length - 1]!;
    const existingLeaf = Object.keys(node).find((k) => k.toLowerCase() === leaf.toLowerCase()) ?? leaf;
    node[existingLeaf] = /^-?\d+$/.test(value) ? Number(value) : value;
  }
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** "hh:mm:ss" (or "d.hh:mm:ss") to milliseconds. */
export function timespanMs(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  const [, d, h, min, s, frac] = m;
  const seconds = Number(d ?? 0) * 86400 + Number(h) * 3600 + Number(min) * 60 + Number(s);
  return seconds * 1000 + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
}

/** Replaces `%Setting%` in binding options with app settings, as the host does. */
export function resolveSettingExpressions(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`The app setting "${name}" used in "${value}" is not set.`);
    return v;
  });
}

/** A binding's `connection` X names the setting `AzureWebJobsX`, else `X`; default AzureWebJobsStorage. */
export function resolveStorageConnection(connection: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const name = typeof connection === "string" && connection ? connection : "Storage";
  const value = env[`AzureWebJobs${name}`] ?? env[name];
  if (!value) throw new Error(`No storage connection: set the app setting "AzureWebJobs${name}" or "${name}".`);
  return value;
}
