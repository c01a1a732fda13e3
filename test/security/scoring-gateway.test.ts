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

describe("the scoring gateway under hostile requests", () => {
  it("frees a slot at once when a client abandons its upload, small or large", async () => {
    const { scoringUri, key } = await deployer.deploy("abandoned", COUNTING_DRIVER, {
      numReplicas: 1,
      maxConcurrentRequestsPerContainer: 1,
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
    const { scoringUri, key } = await deployer.deploy("hanging", HANGING_DRIVER, { numReplicas: 1, maxConcurrentRequestsPerContainer: 1 });
    const started = Date.now();
    const hung = await score(scoringUri, key, { sleep: 120 });
    const waited = (Date.now() - started) / 1000;
    expect(hung.status).toBe(504);
    expect(await hung.json()).toEqual({ error: `The service did not answer within ${DEADLINE_SECONDS} s.` });
    expect(waited).toBeGreaterThanOrEqual(DEADLINE_SECONDS - 0.1);
    expect(waited).toBeLessThan(DEADLINE_SECONDS + 2);
    // The replica restarts; the service answers again within seconds.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      status = (await score(scoringUri, key, { sleep: 0 })).status;
    }
    expect(status).toBe(200);
  });

  it("keeps another service's pings fast while one service returns 80 MB answers", async () => {
    const large = await deployer.deploy("large-answers", LARGE_ANSWER_DRIVER, { numReplicas: 1 });
    const pinged = await deployer.deploy("pinged", LINEAR_DRIVER, { numReplicas: 1 });
    // The large answers are fetched by another process, so that reading them costs this one nothing.
    const downloader = spawn(
      process.execPath,
      [
        "-e",
        `const [uri, key] = process.argv.slice(1);
         const one = () => fetch(uri, { method: "POST", headers: { authorization: "Bearer " + key, "content-type": "application/json" }, body: JSON.stringify({ bytes: 80e6 }) })
           .then(async (r) => { const b = await r.arrayBuffer(); if (r.status !== 200 || b.byteLength < 80e6) throw new Error("answer " + r.status + " " + b.byteLength); });
         Promise.all([1, 2].map(async () => { for (let i = 0; i < 3; i++) await one(); })).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`,
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
    const latencies: number[] = [];
    while (!done) {
      const started = performance.now();
      const res = await score(pinged.scoringUri, pinged.key, { data: [[1, 1, 1]] });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      latencies.push(performance.now() - started);
    }
    expect(await finished, errors).toBe(0);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    expect(latencies.length).toBeGreaterThan(50);
    expect(p99, `p99 of ${latencies.length} pings`).toBeLessThan(50);
  }, 120_000);

  it("passes a chunked request body to the driver whole", async () => {
    const { scoringUri, key } = await deployer.deploy("chunked", LINEAR_DRIVER, { numReplicas: 1 });
    // No Content-Length: Node sends Transfer-Encoding: chunked, one chunk per write.
    const answer = await postWith(scoringUri, key, {}, (req) => {
      req.write('{"data": ');
      req.write("[[1, 2, 3],");
      req.end(" [0, 0, 1]]}");
    });
    expect(answer).toEqual({ status: 200, body: "[14, 3]" });
  });

  it("answers 413 to a body over the limit, before reading it, to a client that waits for the answer", async () => {
    const { scoringUri, key } = await deployer.deploy("oversized", COUNTING_DRIVER, { numReplicas: 1 });
    // Declares 200 MB, sends 64 KB, and waits for the answer.
    const answer = await postWith(scoringUri, key, { "content-length": String(200 * 1024 * 1024) }, (req) =>
      req.write(Buffer.alloc(64 * 1024, 0x20)),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: "The request body is larger than 104857600 bytes." });
    // A chunked body that grows past the limit is refused too.
    const { status } = await fetch(scoringUri, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: new ReadableStream({
        pull(controller) {
          controller.enqueue(new Uint8Array(8 * 1024 * 1024));
        },
      }),
      duplex: "half",
    } as RequestInit).catch(() => ({ status: 0 }));
    expect(status).toBe(413);
  });
});
