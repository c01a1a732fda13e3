import { Agent, request } from "node:http";
import { medianOf } from "../harness.js";

export interface LoadResult {
  ms: number;
  requests: number;
  failures: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * Sends `total` POSTs from `concurrency` clients over keep-alive connections (the way a real
 * client library would), and measures throughput and latency. Bounded in count: it stops by itself.
 */
export async function load(url: string, options: { body: string; headers?: Record<string, string>; total: number; concurrency: number }): Promise<LoadResult> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const payload = Buffer.from(options.body);
  const one = () =>
    new Promise<number>((resolve) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers: { "content-type": "application/json", "content-length": payload.length, ...options.headers } },
        (res) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.once("error", () => resolve(0));
      req.end(payload);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.total) {
        next++;
        const t = performance.now();
        const status = await one();
        latencies.push(performance.now() - t);
        if (status !== 200) failures++;
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { ms, requests: latencies.length, failures, rps: (latencies.length * 1000) / ms, p50: medianOf(latencies), p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! };
}
