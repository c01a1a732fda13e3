import { execFile, spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../devhost/ports.js";
import { join } from "node:path";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { metricRatio, type Benchmark, type BenchmarkContext, type BenchmarkResult, type Sample } from "./harness.js";
import { wrk } from "./support/wrk.js";
import { cpuSeconds } from "./support/process-cpu.js";
import { processTree } from "../devhost/process-tree.js";
import { PROJECT_ROOT } from "./support/local-stack.js";
import {
  BENCH_BODY,
  appDirOf,
  deploy,
  replicaPorts,
  scoringFixture,
  undeploy,
  writeFastApiApp,
  writeFlaskApp,
  type ScoringFixture,
} from "./support/scoring-fixture.js";

const CONCURRENCY = 8;
/** Seconds of load per sample. */
const secondsFor = (ctx: BenchmarkContext) => (ctx.smoke ? 1 : 5);
/** Samples are reported as the time 4 000 requests take at the measured rate, so ratios compare throughput. */
const PER_SAMPLE = 4000;

interface Deployed extends ScoringFixture {
  service: { id: string; scoringUri: string; key: string; targetName: string };
  replicaUrl: string;
  peer?: ChildProcess;
  peerUrl?: string;
}

async function waitFor(url: string, init?: RequestInit): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(url, init).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never answered 200`);
}

type Peer = "flask" | "uvicorn";

/** One service with one replica, and (for the server comparisons) a peer server beside it running the same driver. */
async function deployed(ctx: BenchmarkContext, peer?: Peer): Promise<Deployed> {
  const f = await scoringFixture(ctx.log);
  const service = await deploy(f, "bench", { numReplicas: 1, maxConcurrentRequestsPerContainer: 64 });
  const [port] = await replicaPorts(f, service.targetName);
  const d: Deployed = { ...f, service, replicaUrl: `http://127.0.0.1:${port}/score` };
  if (peer) {
    const appDir = appDirOf(f);
    const peerPort = await freePort();
    // Same driver, same number of processes: one gunicorn worker (Flask's usual production setup),
    // or one uvicorn process with uvloop and httptools (its fastest).
    if (peer === "flask") {
      writeFlaskApp(appDir);
      d.peer = spawn("gunicorn", ["--workers", "1", "--bind", `127.0.0.1:${peerPort}`, "--log-level", "error", "bench_flask_app:app"], {
        cwd: appDir,
        stdio: "ignore",
      });
    } else {
      writeFastApiApp(appDir);
      const args = ["-m", "uvicorn", "--port", String(peerPort), "--loop", "uvloop", "--http", "httptools"];
      d.peer = spawn(f.python, [...args, "--no-access-log", "--log-level", "error", "bench_fastapi_app:app"], {
        cwd: appDir,
        stdio: "ignore",
      });
    }
    d.peerUrl = `http://127.0.0.1:${peerPort}/score`;
    await waitFor(d.peerUrl, { method: "POST", body: BENCH_BODY, headers: { "content-type": "application/json" } });
  }
  return d;
}

async function teardown(d: Deployed): Promise<void> {
  d.peer?.kill();
  await d.bench.stack.stop();
  rmSync(d.bench.dataDir, { recursive: true, force: true });
}

function sampleOf(r: Awaited<ReturnType<typeof wrk>>): Sample {
  if (r.failures > 0) throw new Error(`${r.failures} of ${r.requests} requests failed`);
  return { ms: (PER_SAMPLE / r.rps) * 1000, metrics: { rps: Math.round(r.rps), p50_ms: r.p50, p99_ms: r.p99 } };
}

/**
 * `scoring-gateway`: requests to the scoring URL (the router checks a connection's first request
 * and hands the connection to the replica, which checks the key of every later one and gives the
 * connection back every second to be balanced again) against the same requests straight to the
 * replica's own port. Target: at least 80 % of the direct throughput (time ratio ≤ 1.25).
 */
export const scoringGateway: Benchmark<Deployed> = {
  name: "scoring-gateway",
  title: "scoring through the gateway against straight to the replica",
  subjectLabel: `POST …/score through the gateway (${CONCURRENCY} clients, keep-alive)`,
  baselineLabel: "the same requests straight to the replica",
  rounds: 5,
  setup: (ctx) => deployed(ctx),
  subject: (d, ctx) =>
    withCpu(d, () =>
      wrk(d.service.scoringUri, {
        body: BENCH_BODY,
        headers: { authorization: `Bearer ${d.service.key}` },
        seconds: secondsFor(ctx),
        connections: CONCURRENCY,
        workDir: ctx.workDir,
      }),
    ),
  baseline: (d, ctx) =>
    withCpu(d, () => wrk(d.replicaUrl, { body: BENCH_BODY, seconds: secondsFor(ctx), connections: CONCURRENCY, workDir: ctx.workDir })),
  teardown,
  targets: [{ description: "gateway ≥ 80% of direct throughput (ratio ≤ 1.25)", met: (r) => r.ratio <= 1.25 }],
  notes: () => [
    `${CONCURRENCY} keep-alive connections from wrk (a native load generator, on the same 2 cores), one replica, a linear-model driver; each sample is 5 s of load, shown as the time 4 000 requests take at that rate.`,
    "gateway_cpu_us and replica_cpu_us: CPU time (user and system, from /proc) the local runtime's process (the gateway) and the replica's processes spent per request.",
  ],
};

/**
 * A sample, with the CPU time per request of the gateway (the local runtime's own process) and
 * of the replica (the runtime's child processes): where the time of a request through the
 * gateway goes, on cores the load generator shares.
 */
async function withCpu(d: Deployed, load: () => ReturnType<typeof wrk>): Promise<Sample> {
  const { roots: gateway, descendants: replica } = processTree(
    ({ cmdline }) => cmdline.includes("runtime/main.js") && cmdline.includes(d.bench.dataDir),
  );
  const before = { gateway: cpuSeconds(gateway), replica: cpuSeconds(replica) };
  const r = await load();
  const sample = sampleOf(r);
  const perRequest = (seconds: number) => Math.round((seconds / Math.max(1, r.requests)) * 1e6 * 10) / 10;
  sample.metrics = {
    ...sample.metrics,
    gateway_cpu_us: perRequest(cpuSeconds(gateway) - before.gateway),
    replica_cpu_us: perRequest(cpuSeconds(replica) - before.replica),
  };
  return sample;
}

/** Our scoring server against a peer running the same driver, straight to both (no gateway), `clients` keep-alive connections. */
function serverComparison(name: string, peer: Peer, clients: number): Benchmark<Deployed> {
  const load = (url: string, ctx: BenchmarkContext) =>
    wrk(url, { body: BENCH_BODY, seconds: secondsFor(ctx), connections: clients, workDir: ctx.workDir });
  return {
    name,
    title: `our scoring server against ${peer === "flask" ? "Flask under gunicorn" : "FastAPI under uvicorn"}, same driver, same process count, ${clients} clients`,
    subjectLabel: `scoring/server.py (1 process, ${clients} clients)`,
    baselineLabel:
      peer === "flask"
        ? `Flask 2.2 under gunicorn 20.1 (1 sync worker, ${clients} clients)`
        : `FastAPI 0.92 under uvicorn 0.17, uvloop and httptools (1 process, ${clients} clients)`,
    rounds: 5,
    setup: (ctx) => deployed(ctx, peer),
    subject: async (d, ctx) => sampleOf(await load(d.replicaUrl, ctx)),
    baseline: async (d, ctx) => sampleOf(await load(d.peerUrl!, ctx)),
    teardown,
    targets: [
      { description: "throughput at least the peer's (ratio ≤ 1)", met: (r) => r.ratio <= 1 },
      ...(peer === "uvicorn"
        ? [{ description: "p99 no worse than the peer's", met: (r: Omit<BenchmarkResult, "targets">) => metricRatio(r, "p99_ms") <= 1 }]
        : []),
    ],
    notes: () => [
      "Both run Debian's /usr/bin/python3 with the same score.py and model, the requests straight to the server (no gateway), from wrk on the same 2 cores.",
    ],
  };
}

/** `scoring-server`: against Flask under gunicorn (one worker), as since the first benchmark run. */
export const scoringServer = serverComparison("scoring-server", "flask", CONCURRENCY);
/** `scoring-server-uvicorn`, `-64`: against FastAPI under uvicorn, at 8 and 64 clients. Target (#15): throughput at least theirs, p99 no worse. */
export const scoringServerUvicorn = serverComparison("scoring-server-uvicorn", "uvicorn", CONCURRENCY);
export const scoringServerUvicorn64 = serverComparison("scoring-server-uvicorn-64", "uvicorn", 64);

interface ReadyFixture extends ScoringFixture {
  rounds: number;
  appDir: string;
}

/**
 * `service-ready`: the time from `POST services` to the first successful score, against the
 * time the scoring server itself takes to start and run the driver's init() (python start-up
 * included). Target: the service is ready in under 3 s plus that.
 */
export const serviceReady: Benchmark<ReadyFixture> = {
  name: "service-ready",
  title: "from POST services to the first successful score",
  subjectLabel: "POST services → first 200 from the scoring URL",
  baselineLabel: "python3 scoring/server.py → first 200 (start-up and init() alone)",
  rounds: 3,
  async setup(ctx) {
    const f = await scoringFixture(ctx.log);
    const warm = await deploy(f, "warm", { numReplicas: 1 });
    // A copy: the runtime removes its unpacked image once no service runs it.
    const appDir = join(mkdtempSync(join(tmpdir(), "mm-bench-app-")), "azureml-app");
    cpSync(appDirOf(f), appDir, { recursive: true });
    await undeploy(f, warm.id);
    return { ...f, rounds: 0, appDir };
  },
  async subject(f) {
    const started = performance.now();
    const service = await deploy(f, `ready-${++f.rounds}`, { numReplicas: 1 });
    await waitFor(service.scoringUri, {
      method: "POST",
      body: BENCH_BODY,
      headers: { authorization: `Bearer ${service.key}`, "content-type": "application/json" },
    });
    const ms = performance.now() - started;
    await undeploy(f, service.id);
    return { ms };
  },
  async baseline(f) {
    const port = await freePort();
    const started = performance.now();
    const child = spawn(f.python, [join(PROJECT_ROOT, "scoring", "server.py")], {
      env: { ...process.env, AML_APP_ROOT: f.appDir, AML_HOST: "127.0.0.1", AML_PORT: String(port) },
      stdio: "ignore",
    });
    try {
      await waitFor(`http://127.0.0.1:${port}/score`, {
        method: "POST",
        body: BENCH_BODY,
        headers: { "content-type": "application/json" },
      });
      return { ms: performance.now() - started };
    } finally {
      child.kill();
    }
  },
  async teardown(f) {
    await f.bench.stack.stop();
    rmSync(f.bench.dataDir, { recursive: true, force: true });
    rmSync(join(f.appDir, ".."), { recursive: true, force: true });
  },
  targets: [
    { description: "ready in < 3 s plus the server's own start-up and init()", met: (r) => r.subject.median - r.baseline.median < 3000 },
  ],
  notes: () => ["The subject includes the API call, the queue, the rollout worker, the runtime starting a replica and its health check."],
};

/** A random forest (tree ensembles were the 2017 projects' staple): each predict() call costs far more than each row. */
const FOREST_DRIVER = `import json
import joblib
import numpy as np

def init():
    global model
    model = joblib.load("model.pkl")

def run(raw):
    return model.predict(np.array(json.loads(raw)["data"])).tolist()

def run_batch(inputs):
    rows = [json.loads(raw)["data"] for raw in inputs]
    predictions = model.predict(np.array([row for request in rows for row in request])).tolist()
    answers, at = [], 0
    for request in rows:
        answers.append(predictions[at : at + len(request)])
        at += len(request)
    return answers
`;
const TRAIN_FOREST = `import joblib, sys
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
X, y = load_iris(return_X_y=True)
joblib.dump(RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y), sys.argv[1])
`;
const BATCH_CLIENTS = 64;
const BATCH_WAIT_MS = 5;
const ONE_FLOWER = JSON.stringify({ data: [[5.1, 3.5, 1.4, 0.2]] });

interface BatchingFixture extends ScoringFixture {
  batchedUrl: string;
  plainUrl: string;
}

/**
 * `scoring-batching`: a scikit-learn random forest behind two services of the same image, one
 * batching (up to 64 requests, 5 ms) and one not, 64 clients each sending one row. Targets (#15):
 * at least 4× the unbatched throughput; p99 at most the unbatched p99 plus the 5 ms wait.
 */
export const scoringBatching: Benchmark<BatchingFixture> = {
  name: "scoring-batching",
  title: "adaptive batching of a scikit-learn model, against the same service unbatched",
  subjectLabel: `batching ≤ ${BATCH_CLIENTS} requests, ≤ ${BATCH_WAIT_MS} ms wait (${BATCH_CLIENTS} clients)`,
  baselineLabel: `the same image unbatched (${BATCH_CLIENTS} clients)`,
  rounds: 5,
  async setup(ctx) {
    const dir = mkdtempSync(join(tmpdir(), "mm-bench-forest-"));
    const python = "/usr/bin/python3";
    await new Promise<void>((resolve, reject) =>
      execFile(python, ["-c", TRAIN_FOREST, join(dir, "model.pkl")], (err) => (err ? reject(err) : resolve())),
    );
    const f = await scoringFixture(ctx.log, {
      driver: FOREST_DRIVER,
      model: { file: "model.pkl", content: readFileSync(join(dir, "model.pkl")), mimeType: "application/octet-stream" },
    });
    rmSync(dir, { recursive: true, force: true });
    const common = { numReplicas: 1, maxConcurrentRequestsPerContainer: BATCH_CLIENTS };
    const batched = await deploy(f, "batched", {
      ...common,
      batching: { maxBatchSize: BATCH_CLIENTS, maxWaitInMilliseconds: BATCH_WAIT_MS },
    });
    const plain = await deploy(f, "plain", common);
    const [batchedPort] = await replicaPorts(f, batched.targetName);
    const [plainPort] = await replicaPorts(f, plain.targetName);
    return { ...f, batchedUrl: `http://127.0.0.1:${batchedPort}/score`, plainUrl: `http://127.0.0.1:${plainPort}/score` };
  },
  subject: async (f, ctx) =>
    sampleOf(await wrk(f.batchedUrl, { body: ONE_FLOWER, seconds: secondsFor(ctx), connections: BATCH_CLIENTS, workDir: ctx.workDir })),
  baseline: async (f, ctx) =>
    sampleOf(await wrk(f.plainUrl, { body: ONE_FLOWER, seconds: secondsFor(ctx), connections: BATCH_CLIENTS, workDir: ctx.workDir })),
  async teardown(f) {
    await f.bench.stack.stop();
    rmSync(f.bench.dataDir, { recursive: true, force: true });
  },
  targets: [
    { description: "at least 4× the unbatched throughput (ratio ≤ 0.25)", met: (r) => r.ratio <= 0.25 },
    {
      description: `p99 at most the unbatched p99 + ${BATCH_WAIT_MS} ms`,
      met: (r) => (r.subject.metrics?.p99_ms ?? Infinity) <= (r.baseline.metrics?.p99_ms ?? NaN) + BATCH_WAIT_MS,
    },
  ],
  notes: () => [
    "A RandomForestClassifier (50 trees, iris) pickled with joblib, on Debian's /usr/bin/python3; one row per request, straight to each service's replica; the driver defines run() and run_batch(inputs), the batched service sets batching.maxBatchSize and maxWaitInMilliseconds.",
  ],
};
