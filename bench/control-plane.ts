import { randomUUID } from "node:crypto";
import { fork, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "node:http";
import { CosmosClient, type Container } from "@azure/cosmos";
import {
  medianOf,
  metricRatio,
  type Benchmark,
  type BenchmarkContext,
  type BenchmarkResult,
  type Sample,
  type SharedFixture,
} from "./harness.js";
import { startBenchStack, type BenchStack } from "./support/local-stack.js";
import { createVersioned } from "../shared/store/versioning.js";
import { seedModels } from "./support/seed-models.js";
import type { ModelDocument } from "../shared/store/documents.js";
import { API_VERSION } from "../shared/schemas/api-version.js";
import { dataPartitionAt } from "../shared/store/account-repository.js";

/**
 * Control-plane benchmarks: each API call, through the local Functions host and authenticated
 * as clients call it, against the raw @azure/cosmos call(s) it makes, on the same emulator.
 */

interface Fixture {
  bench: BenchStack;
  container: Container;
  /** The account's path (what URLs name), and the partition of its resources. */
  path: string;
  pk: string;
  account: string;
  modelIds: string[];
  agent: Agent;
}

const MODEL = { mimeType: "application/octet-stream", url: "https://models.example.com/m.pkl" };

async function setupFixture(ctx: BenchmarkContext, seedCount: number): Promise<Fixture> {
  const bench = await startBenchStack(ctx.log);
  const client = new CosmosClient({ endpoint: bench.stack.cosmosEndpoint, key: Buffer.from("local-emulator").toString("base64") });
  const container = client.database("modelmanagement").container("resources");
  const path = bench.stack.accountPath;
  const pk = await dataPartitionAt(container, path);
  const f: Fixture = {
    bench,
    container,
    path,
    pk,
    account: `${bench.stack.apiBaseUrl}/${path}`,
    modelIds: [],
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
  };
  f.modelIds.push(...(await seedModels(container, pk, seedCount, { prefix: "seed", names: 10 })));
  return f;
}

function call(f: Fixture, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return send(f, method, new URL(`${f.account}/${path}${path.includes("?") ? "&" : "?"}api-version=${API_VERSION}`), body);
}

function send(f: Fixture, method: string, url: URL, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent: f.agent,
        headers: {
          authorization: `Bearer ${f.bench.token}`,
          ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        // A connection reset mid-answer fails this call, not the whole run.
        res.once("error", reject);
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.once("error", reject);
    req.end(payload);
  });
}

/** Runs `total` operations from `concurrency` clients; times each. */
async function drive(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - started;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ms,
    metrics: {
      ops_per_s: Math.round((total * 1000) / ms),
      p50_ms: medianOf(latencies),
      p99_ms: sorted[Math.floor(sorted.length * 0.99)] ?? sorted[sorted.length - 1]!,
    },
  };
}

function ok(res: { status: number; body: string }, what: string): void {
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${res.body.slice(0, 300)}`);
}

type Op = "get-model" | "register-model" | "list-models";

const operations: Record<
  Op,
  { title: string; api: (f: Fixture, i: number) => Promise<void>; raw: (f: Fixture, i: number) => Promise<void>; rawLabel: string }
> = {
  "get-model": {
    title: "GET models/{id}",
    api: async (f, i) => ok(await call(f, "GET", `models/${f.modelIds[i % f.modelIds.length]}`), "GET model"),
    raw: async (f, i) => {
      // What the API reads: the account (authorisation), then the model.
      await f.container.item("account", f.path).read();
      await f.container.item(f.modelIds[i % f.modelIds.length]!, f.pk).read();
    },
    rawLabel: "two point reads (account, model) with @azure/cosmos",
  },
  "register-model": {
    title: "POST models",
    api: async (f, i) => ok(await call(f, "POST", "models", { name: `bench-${i % 20}`, ...MODEL }), "POST model"),
    raw: async (f, i) => {
      await f.container.item("account", f.path).read();
      const name = `raw-${i % 20}`;
      await createVersioned<ModelDocument>(f.container, f.pk, "model", name, (version) => ({
        id: randomUUID(),
        pk: f.pk,
        kind: "model",
        name,
        version,
        createdAt: new Date().toISOString(),
        ...MODEL,
      }));
    },
    rawLabel: "account read + counter read + transactional batch with @azure/cosmos",
  },
  "list-models": {
    title: "GET models (first page of 100)",
    api: async (f) => ok(await call(f, "GET", "models?count=100"), "list models"),
    raw: async (f) => {
      await f.container.item("account", f.path).read();
      await f.container.items
        .query(
          {
            query: "SELECT * FROM c WHERE c.pk = @pk AND c.kind = 'model' ORDER BY c.createdAt DESC",
            parameters: [{ name: "@pk", value: f.pk }],
          },
          { partitionKey: f.pk, maxItemCount: 100 },
        )
        .fetchNext();
    },
    rawLabel: "account read + the same query, one page, with @azure/cosmos",
  },
};

/** Calls of each operation, API and raw, that warm the shared stack before anything is measured. */
const WARM_UP_CALLS = 2000;

async function stopFixture(f: Fixture): Promise<void> {
  f.agent.destroy();
  await f.bench.stack.stop();
  rmSync(f.bench.dataDir, { recursive: true, force: true });
}

/**
 * One local stack for every control-plane benchmark, as one long-running host serves its clients:
 * seeded with 1 000 models, then warmed with a few thousand calls of each operation, because the
 * host's code takes that many to be compiled and settle (a cold host took up to twice as long a call).
 */
const sharedStack: SharedFixture<Fixture> = {
  key: "control-plane stack",
  async setup(ctx) {
    const f = await setupFixture(ctx, ctx.smoke ? 20 : 1000);
    if (!ctx.smoke) {
      for (const op of Object.keys(operations) as Op[]) {
        ctx.log(`control plane: warming up ${op}`);
        await drive(WARM_UP_CALLS, 8, (i) => operations[op].api(f, i));
        await drive(WARM_UP_CALLS, 8, (i) => operations[op].raw(f, i));
      }
    }
    return f;
  },
  teardown: stopFixture,
};

function controlPlane(op: Op, concurrency: number): Benchmark<Fixture> {
  const o = operations[op];
  const perRound = concurrency === 1 ? 400 : Math.max(800, concurrency * 10);
  const total = (ctx: BenchmarkContext) => (ctx.smoke ? 20 : perRound);
  return {
    name: `${op}-c${concurrency}`,
    title: `${o.title}, ${concurrency} concurrent client${concurrency > 1 ? "s" : ""}, against the raw store calls`,
    subjectLabel: `${o.title} through the API (local host, bearer token)`,
    baselineLabel: o.rawLabel,
    rounds: 5,
    shared: sharedStack,
    setup: async (_ctx, shared: Fixture) => shared,
    subject: (f, ctx) => drive(total(ctx), concurrency, (i) => o.api(f, i)),
    baseline: (f, ctx) => drive(total(ctx), concurrency, (i) => o.raw(f, i)),
    // The stack is shared: torn down after the last benchmark that uses it.
    teardown: async () => undefined,
    targets:
      concurrency === 1
        ? [{ description: "API p50 ≤ 2× the raw store calls' p50", met: (r) => metricRatio(r, "p50_ms") <= 2 }]
        : [{ description: "API throughput ≥ 50% of the store's (ratio ≤ 2)", met: (r) => r.ratio <= 2 }],
    notes: () => [
      `${perRound} operations a round, after a warm-up round; one stack serves every control-plane benchmark, warmed first with ${WARM_UP_CALLS} calls of each operation; the account holds 1 000 seeded models plus those the register benchmarks add; the raw calls go to the same durable emulator from the benchmark process.`,
    ],
    findings: (r) => [
      `API/store latency ratio: ${metricRatio(r, "p50_ms").toFixed(2)} at p50, ${metricRatio(r, "p99_ms").toFixed(2)} at p99 (medians of the rounds' percentiles).`,
    ],
  };
}

interface PagingFixture extends Fixture {
  page1: string;
  page100: string;
}

/**
 * `list-page-100`: the 100th page of a filtered list (reached with its $skipToken) against the
 * first. Continuation tokens, not OFFSET, must keep it flat. Target: page 100 within 1.5× of page 1.
 */
const listPage100: Benchmark<PagingFixture> = {
  name: "list-page-100",
  title: "page 100 of a filtered model list against page 1",
  subjectLabel: "GET models?name=…&count=10, page 100 (its $skipToken)",
  baselineLabel: "the same list, page 1",
  rounds: 5,
  async setup(ctx) {
    const f = await setupFixture(ctx, ctx.smoke ? 40 : 10_000);
    const pages = ctx.smoke ? 4 : 100;
    const perPage = ctx.smoke ? 1 : 10;
    let link = `models?name=seed-3&count=${perPage}`;
    let page100 = link;
    for (let p = 1; p < pages; p++) {
      const res = await call(f, "GET", link);
      ok(res, "list page");
      const next = (JSON.parse(res.body) as { nextLink?: string }).nextLink;
      if (!next) throw new Error(`the list ended at page ${p}`);
      const u = new URL(next);
      link = `models${u.search.replace(/[?&]api-version=[^&]*/, "").replace(/^&/, "?")}`;
      page100 = link;
    }
    return { ...f, page1: `models?name=seed-3&count=${perPage}`, page100 };
  },
  subject: (f, ctx) => drive(ctx.smoke ? 5 : 200, 1, async () => ok(await call(f, "GET", f.page100), "page 100")),
  baseline: (f, ctx) => drive(ctx.smoke ? 5 : 200, 1, async () => ok(await call(f, "GET", f.page1), "page 1")),
  teardown: stopFixture,
  targets: [{ description: "page 100 ≤ 1.5× page 1", met: (r) => r.ratio <= 1.5 }],
  notes: () => ["10 000 models in the account, 1 000 of them named seed-3; pages of 10, so page 100 is the last; 200 calls a round."],
};

/** How much longer the subject's p50 is than the baseline's, in ms. */
const p50Gap = (r: Pick<BenchmarkResult, "subject" | "baseline">): number =>
  (r.subject.metrics?.p50_ms ?? NaN) - (r.baseline.metrics?.p50_ms ?? NaN);

interface BareFixture extends Fixture {
  bare: ChildProcess;
  bareUrl: string;
}

/**
 * `host-overhead`: `GET models/{id}` through the local Functions host against the same two reads
 * behind a bare node:http server (bench/support/bare-api-server.ts), one client. What the host,
 * the v4 programming model and the app's own checks cost over any HTTP hop in front of the store.
 */
const hostOverhead: Benchmark<BareFixture> = {
  name: "host-overhead",
  title: "GET models/{id} through the Functions host against a bare node:http server making the same reads",
  subjectLabel: "GET models/{id} through the API (local host, bearer token), 1 client",
  baselineLabel: "GET from a bare node:http server doing the same two point reads, 1 client",
  rounds: 5,
  shared: sharedStack,
  async setup(_ctx, f: Fixture) {
    const bare = fork(
      join(dirname(fileURLToPath(import.meta.url)), "support", "bare-api-server.js"),
      [f.bench.stack.cosmosEndpoint, f.path, f.pk],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    const port = await new Promise<number>((resolve, reject) => {
      bare.once("message", (m) => resolve((m as { port: number }).port));
      bare.once("exit", (code) => reject(new Error(`the bare server stopped (exit code ${code})`)));
    });
    return { ...f, bare, bareUrl: `http://127.0.0.1:${port}` };
  },
  subject: (f, ctx) =>
    drive(ctx.smoke ? 20 : 400, 1, async (i) => ok(await call(f, "GET", `models/${f.modelIds[i % f.modelIds.length]}`), "GET model")),
  baseline: (f, ctx) =>
    drive(ctx.smoke ? 20 : 400, 1, async (i) =>
      ok(await send(f, "GET", new URL(`${f.bareUrl}/models/${f.modelIds[i % f.modelIds.length]}`)), "bare GET"),
    ),
  async teardown(f) {
    f.bare.kill();
  },
  targets: [{ description: "the host adds ≤ 0.5 ms at p50 over a bare HTTP server", met: (r) => p50Gap(r) <= 0.5 }],
  notes: () => [
    "Both make the same two point reads on the same emulator and answer the model as JSON; the bare server checks no token, validates nothing and has no framework. 400 calls a round.",
  ],
  findings: (r) => [
    `p50: ${(r.subject.metrics?.p50_ms ?? NaN).toFixed(2)} ms through the host against ${(r.baseline.metrics?.p50_ms ?? NaN).toFixed(2)} ms bare (the host adds ${p50Gap(r).toFixed(2)} ms).`,
  ],
};

export const controlPlaneBenchmarks: Benchmark<unknown>[] = [
  ...(["get-model", "register-model", "list-models"] as const).flatMap((op) => [1, 8, 32, 128].map((c) => controlPlane(op, c))),
  hostOverhead,
  listPage100,
];
