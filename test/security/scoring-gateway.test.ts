import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { request, type ClientRequest } from "node:http";
import { ApiClient, DEFAULT_ACCOUNT, tokensFor } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { requireTool } from "../support/tools.js";
import { Deployer, score } from "../support/deploy.js";
import { HANGING_DRIVER, LARGE_ANSWER_DRIVER } from "../fixtures/hostile-drivers.js";
import { COUNTING_DRIVER, LINEAR_DRIVER } from "../fixtures/drivers.js";

/**
 * A key holder's requests cost their own service only: abandoned uploads and hanging run()s do
 * not keep its slots, a large answer does not stall other services, and chunked or oversized
 * bodies get a real answer.
 */
const PYTHON = "/usr/bin/python3";
const A = DEFAULT_ACCOUNT;
const DEADLINE_SECONDS = 3;
let stack: LocalStack;
let deployer: Deployer;

/**
 * Both ways a scoring request is served: on a connection handed to a replica (the usual way), and
 * relayed by the gateway (services that collect model data, whose requests it records).
 */
const ROUTES = [
  { route: "on connections handed to replicas", suffix: "", extra: {} },
  { route: "relayed by the gateway", suffix: "-gw", extra: { dataCollection: { storageEnabled: true } } },
];

beforeAll(async () => {
  requireTool(PYTHON, "python3");
  stack = await startLocalStack({
    env: { PYTHON, OPERATION_STALL_SECONDS: "30", SCORING_REQUEST_TIMEOUT_SECONDS: String(DEADLINE_SECONDS) },
  });
  const api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  deployer = new Deployer(api, new TestBlobs(stack.ports.blobPort), A);
});

afterAll(async () => {
  await stack?.stop();
});

/** Scores with `service` one request after another until `stop()`; how many, and their p99 latency. */
async function pings(service: { scoringUri: string; key: string }, stop: () => boolean): Promise<{ count: number; p99: number }> {
  const latencies: number[] = [];
  while (!stop()) {
    const started = performance.now();
    const res = await score(service.scoringUri, service.key, { data: [[1, 1, 1]] });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN };
}

const timeUp = (ms: number) => {
  const until = performance.now() + ms;
  return () => performance.now() >= until;
};

/** Opens a scoring request, sends part of its body, and leaves without finishing it. */
function abandonUpload(uri: string, key: string, declared: number, sent: number): Promise<void> {
  const { hostname, port, pathname } = new URL(uri);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(sent, 0x20), () => {
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    socket.on("error", reject);
  });
}

/** A scoring POST written by `send`; the answer's status and body (the request is dropped once the answer is read). */
function postWith(
  uri: string,
  key: string,
  headers: Record<string, string>,
  send: (req: ClientRequest) => void,
): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(uri);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        path: pathname,
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      },
    );
    req.on("error", reject);
    send(req);
  });
}

/** A request whose run() hangs gets its 504 at the deadline; then the replica is recycled and the service answers again within seconds. */
async function expectDeadlineThenRecovery(scoringUri: string, key: string): Promise<void> {
  const started = Date.now();
  const hung = await score(scoringUri, key, { sleep: 120 });
  const waited = (Date.now() - started) / 1000;
  expect(hung.status).toBe(504);
  expect(await hung.json()).toEqual({ error: `The service did not answer within ${DEADLINE_SECONDS} s.` });
  expect(waited).toBeGreaterThanOrEqual(DEADLINE_SECONDS - 0.1);
  expect(waited).toBeLessThan(DEADLINE_SECONDS + 2);
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 200));
    // A connection the recycled replica held may be cut: that attempt counts as not yet.
    status = await score(scoringUri, key, { sleep: 0 }).then(
      (r) => r.status,
      () => 0,
    );
  }
  expect(status).toBe(200);
}

describe.each(ROUTES)("the scoring gateway under hostile requests, $route", ({ suffix, extra }) => {
  let large: Awaited<ReturnType<Deployer["deploy"]>> | undefined;
  let pinged: Awaited<ReturnType<Deployer["deploy"]>> | undefined;
  it("frees a slot at once when a client abandons its upload, small or large", async () => {
    const { scoringUri, key } = await deployer.deploy(`abandoned${suffix}`, COUNTING_DRIVER, {
      numReplicas: 1,
      maxConcurrentRequestsPerContainer: 1,
      ...extra,
    });
    // Large bodies stream to the replica (holding its only slot while they do); small ones are read first.
    for (let i = 0; i < 4; i++) await abandonUpload(scoringUri, key, 10 * 1024 * 1024, 256 * 1024);
    for (let i = 0; i < 4; i++) await abandonUpload(scoringUri, key, 1000, 10);
    const started = Date.now();
    const res = await score(scoringUri, key, {});
    expect(res.status, await res.clone().text()).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("answers 504 at the deadline when run() hangs, recycles the replica, and serves again after", async () => {
    const { scoringUri, key } = await deployer.deploy(`hanging${suffix}`, HANGING_DRIVER, {
      numReplicas: 1,
      maxConcurrentRequestsPerContainer: 1,
      ...extra,
    });
    await expectDeadlineThenRecovery(scoringUri, key);
  });

  it("answers 504 at the deadline when a run() quick enough to run on the server's event loop hangs there, and serves again after", async () => {
    const { scoringUri, key } = await deployer.deploy(`loophang${suffix}`, HANGING_DRIVER, { numReplicas: 1, ...extra });
    // Quick calls first: the scoring server then runs run() on its event loop, not in a thread.
    for (let i = 0; i < 5; i++) expect((await score(scoringUri, key, { sleep: 0 })).status).toBe(200);
    await expectDeadlineThenRecovery(scoringUri, key);
  });

  // Timing on shared cores: a second attempt when the first met a burst of other suites' work.
  it("keeps another service's pings fast while one service returns 80 MB answers", { retry: 2, timeout: 120_000 }, async () => {
    large ??= await deployer.deploy(`large-answers${suffix}`, LARGE_ANSWER_DRIVER, { numReplicas: 1, ...extra });
    pinged ??= await deployer.deploy(`pinged${suffix}`, LINEAR_DRIVER, { numReplicas: 1, ...extra });
    const before = await pings(pinged, timeUp(2_000));
    // The large answers are fetched by another process, so that reading them costs this one nothing.
    const downloader = spawn(
      process.execPath,
      [
        "-e",
        `const [uri, key] = process.argv.slice(1);
         const one = () => fetch(uri, { method: "POST", headers: { authorization: "Bearer " + key, "content-type": "application/json" }, body: JSON.stringify({ bytes: 80e6 }) })
           .then(async (r) => { const b = await r.arrayBuffer(); if (r.status !== 200 || b.byteLength < 80e6) throw new Error("answer " + r.status + " " + b.byteLength); });
         (async () => { for (let i = 0; i < 4; i++) await one(); })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`,
        large.scoringUri,
        large.key,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let errors = "";
    downloader.stderr.on("data", (c: Buffer) => (errors += c.toString()));
    const finished = new Promise<number | null>((r) => downloader.once("exit", r));
    let done = false;
    void finished.then(() => (done = true));
    const withLargeAnswers = await pings(pinged, () => done);
    expect(await finished, errors).toBe(0);
    expect(withLargeAnswers.count).toBeGreaterThan(50);
    // 50 ms, as the issue asks, on a machine the test has to itself. When other suites run beside
    // it on the 2 cores, the same pings are slower without any large answer too: then the bound is
    // 3× their p99 measured just before and after. Before the fix, pings went past 5 s, to timeouts.
    const after = await pings(pinged, timeUp(2_000));
    const quiet = { p99: Math.max(before.p99, after.p99) };
    const bound = Math.max(50, 3 * quiet.p99);
    expect(
      withLargeAnswers.p99,
      `p99 of ${withLargeAnswers.count} pings, ${quiet.p99.toFixed(1)} ms without the large answers`,
    ).toBeLessThan(bound);
  });

  it("passes a chunked request body to the driver whole", async () => {
    const { scoringUri, key } = await deployer.deploy(`chunked${suffix}`, LINEAR_DRIVER, { numReplicas: 1, ...extra });
    // No Content-Length: Node sends Transfer-Encoding: chunked, one chunk per write.
    const answer = await postWith(scoringUri, key, {}, (req) => {
      req.write('{"data": ');
      req.write("[[1, 2, 3],");
      req.end(" [0, 0, 1]]}");
    });
    expect(answer).toEqual({ status: 200, body: "[14, 3]" });
  });

  it("answers 413 to a body over the limit, before reading it, to a client that waits for the answer", async () => {
    const { scoringUri, key } = await deployer.deploy(`oversized${suffix}`, COUNTING_DRIVER, { numReplicas: 1, ...extra });
    // Declares 200 MB, sends 64 KB, and waits for the answer.
    const answer = await postWith(scoringUri, key, { "content-length": String(200 * 1024 * 1024) }, (req) =>
      req.write(Buffer.alloc(64 * 1024, 0x20)),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: "The request body is larger than 104857600 bytes." });
    // A chunked body that grows past the limit is refused too, while the client is still sending.
    const chunked = await postWith(scoringUri, key, {}, (req) => {
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = (): void => {
        while (sent < 150 && !req.destroyed) {
          sent++;
          if (!req.write(piece)) return void req.once("drain", more);
        }
      };
      req.once("response", () => (sent = Number.POSITIVE_INFINITY));
      more();
    });
    expect(chunked.status).toBe(413);
  });
});
