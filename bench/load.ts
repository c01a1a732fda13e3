import { rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { medianOf, type Benchmark, type BenchmarkContext, type Sample } from "./harness.js";
import { startBenchStack, type BenchStack } from "./support/local-stack.js";
import { startStack } from "../devhost/stack.js";
import { API_VERSION } from "../shared/schemas/api-version.js";

/**
 * Load runs: a bounded mixed workload (register, get, list, create manifest) from 200
 * concurrent clients on loopback for 60 s. Checked: no 5xx, and every write answered 200 is
 * readable afterwards; p50/p99 reported. The crash variant kills every process of the stack
 * with SIGKILL halfway and starts it again on the same data.
 */

interface Fixture {
  bench: BenchStack;
  agent: Agent;
  crashed: boolean;
}

interface Outcome {
  status: number;
  body: string;
}

const CLIENTS = 200;
const MODEL = { mimeType: "application/octet-stream", url: "https://models.example.com/m.pkl" };

function send(f: Fixture, method: string, path: string, body?: unknown): Promise<Outcome> {
  const url = new URL(
    `${f.bench.stack.apiBaseUrl}/${f.bench.stack.accountPath}/${path}${path.includes("?") ? "&" : "?"}api-version=${API_VERSION}`,
  );
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent: f.agent,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${f.bench.token}`,
          ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.once("error", () => resolve({ status: 0, body: "" }));
      },
    );
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve({ status: 0, body: "" }));
    req.end(payload);
  });
}

async function run(f: Fixture, ctx: BenchmarkContext, crash: boolean): Promise<Sample> {
  const seconds = ctx.smoke ? 3 : 60;
  const clients = ctx.smoke ? 10 : CLIENTS;
  const models: { id: string; version: number; name: string }[] = [];
  const manifests: string[] = [];
  const latencies: number[] = [];
  let serverErrors = 0;
  let unanswered = 0;
  let ops = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let crashAt = crash ? started + (seconds * 1000) / 2 : Infinity;
  let ackedBeforeCrash = 0;
  let restarting: Promise<void> | undefined;

  const client = async (c: number) => {
    for (let i = 0; performance.now() < end; i++) {
      if (performance.now() >= crashAt && !restarting) {
        crashAt = Infinity;
        ackedBeforeCrash = models.length;
        restarting = crashAndRestart(f, ctx);
      }
      if (restarting) await restarting;
      const roll = (c * 7919 + i * 104729) % 100;
      const t = performance.now();
      let res: Outcome;
      if (roll < 30 || models.length === 0) {
        res = await send(f, "POST", "models", { name: `load-${roll % 25}`, tags: [`t${roll % 5}`], ...MODEL });
        if (res.status === 200) models.push(JSON.parse(res.body) as { id: string; version: number; name: string });
      } else if (roll < 70) {
        res = await send(f, "GET", `models/${models[(c + i) % models.length]!.id}`);
      } else if (roll < 90) {
        res = await send(f, "GET", `models?count=20&tag=t${roll % 5}`);
      } else {
        res = await send(f, "POST", "manifests", {
          name: `load-${roll % 10}`,
          driverProgram: "score.py",
          assets: [{ id: "score.py", url: "https://models.example.com/score.py" }],
          modelIds: [models[(c * 3 + i) % models.length]!.id],
          targetRuntime: { runtimeType: "Python", properties: {} },
        });
        if (res.status === 200) manifests.push((JSON.parse(res.body) as { id: string }).id);
      }
      latencies.push(performance.now() - t);
      ops++;
      if (res.status >= 500) serverErrors++;
      if (res.status === 0) unanswered++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const ms = performance.now() - started;
  if (restarting) await restarting;

  // Every write answered 200 must be readable now, with what was answered.
  let lost = 0;
  for (let i = 0; i < models.length; i += 50) {
    const results = await Promise.all(models.slice(i, i + 50).map((m) => send(f, "GET", `models/${m.id}`)));
    results.forEach((r, j) => {
      const m = models[i + j]!;
      if (r.status !== 200 || (JSON.parse(r.body) as { version: number }).version !== m.version) lost++;
    });
  }
  for (const id of manifests) if ((await send(f, "GET", `manifests/${id}`)).status !== 200) lost++;
  const sorted = [...latencies].sort((a, b) => a - b);
  ctx.log(
    `${ops} operations, ${models.length} models and ${manifests.length} manifests acknowledged${crash ? ` (${ackedBeforeCrash} models before the kill)` : ""}; ${serverErrors} 5xx, ${unanswered} without an answer, ${lost} lost`,
  );
  return {
    ms,
    metrics: {
      ops,
      ops_per_s: Math.round((ops * 1000) / ms),
      p50_ms: medianOf(latencies),
      p99_ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      server_errors: serverErrors,
      unanswered,
      acknowledged_writes: models.length + manifests.length,
      lost_writes: lost,
    },
  };
}

/** SIGKILL every process of the stack at once, then start it again on the same data and ports. */
async function crashAndRestart(f: Fixture, ctx: BenchmarkContext): Promise<void> {
  ctx.log("killing the whole stack with SIGKILL");
  for (const pid of Object.values(f.bench.stack.pids)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // The supervisor is this process and survives the kill: it must not restart the children the
  // kill took (a real crash takes it too), or they would hold the ports the new stack needs.
  await f.bench.stack.stop();
  await new Promise((r) => setTimeout(r, 300));
  f.agent.destroy();
  f.agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const o = f.bench.options;
  f.bench.stack = await startStack({ ...o, onChildExit: () => undefined });
  f.crashed = true;
  ctx.log("the stack is back");
}

function loadBenchmark(crash: boolean): Benchmark<Fixture> {
  return {
    name: crash ? "load-mixed-crash" : "load-mixed",
    title: crash ? "200 clients, mixed workload, 60 s, the whole stack killed with SIGKILL halfway" : "200 clients, mixed workload, 60 s",
    subjectLabel: "30% register, 40% get, 20% list, 10% manifest (200 clients)",
    baselineLabel: "none: properties checked",
    rounds: 1,
    async setup(ctx) {
      const bench = await startBenchStack(ctx.log);
      return { bench, agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }), crashed: false };
    },
    subject: (f, ctx) => run(f, ctx, crash),
    async teardown(f) {
      f.agent.destroy();
      await f.bench.stack.stop();
      rmSync(f.bench.dataDir, { recursive: true, force: true });
    },
    targets: [
      ...(crash
        ? []
        : [
            {
              description: "zero 5xx",
              met: (r: { subject: { metrics?: Record<string, number> } }) => r.subject.metrics?.server_errors === 0,
            },
          ]),
      {
        description: crash
          ? "every write acknowledged (before or after the kill) is there"
          : "every acknowledged write readable afterwards",
        met: (r) => r.subject.metrics?.lost_writes === 0,
      },
    ],
    notes: () =>
      crash
        ? ["Requests in flight at the kill get no answer (counted as unanswered, not as 5xx); clients wait for the restart and go on."]
        : ["200 concurrent keep-alive clients on loopback; a client's next request goes out when its last one is answered."],
  };
}

export const loadMixed = loadBenchmark(false);
export const loadMixedCrash = loadBenchmark(true);
