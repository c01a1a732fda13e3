import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, tokensFor } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { requireTool } from "../support/tools.js";
import { jsonOf } from "../support/http.js";
import { Deployer } from "../support/deploy.js";
import { COUNTING_DRIVER, LINEAR_DRIVER } from "../fixtures/drivers.js";

/**
 * The scoring port hands a client's connection to a replica of the service its first request
 * scores (connection-router.ts, scoring/aml_server/handoff.py). Whatever the connection asks next,
 * its answers are the gateway's: requests the replica does not serve go back through the gateway,
 * no byte the router read is lost, and new replicas get a share of long-lived connections.
 */
const PYTHON = "/usr/bin/python3";
const A = DEFAULT_ACCOUNT;
let stack: LocalStack;
let api: ApiClient;
let deployer: Deployer;
let counting: { scoringUri: string; key: string; target: string };
let linear: { scoringUri: string; key: string; target: string };

beforeAll(async () => {
  requireTool(PYTHON, "python3");
  stack = await startLocalStack({ env: { PYTHON, OPERATION_STALL_SECONDS: "30" } });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  deployer = new Deployer(api, new TestBlobs(stack.ports.blobPort), A);
  const deployed = async (name: string, driver: string, extra: Record<string, unknown> = {}) => {
    const d = await deployer.deploy(name, driver, { numReplicas: 1, ...extra });
    return { scoringUri: d.scoringUri, key: d.key, target: d.scoringUri.split("/service/")[1]!.split("/")[0]! };
  };
  counting = await deployed("handcount", COUNTING_DRIVER);
  linear = await deployed("handlinear", LINEAR_DRIVER);
});

afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One keep-alive connection to the scoring port, written and read by hand: what a client sees on it, in order. */
class Connection {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiting: (() => void) | undefined;

  constructor(port: number) {
    this.#socket = connect({ host: "127.0.0.1", port });
    this.#socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#waiting?.();
    });
    this.#socket.on("close", () => this.#waiting?.());
  }

  static request(method: string, uri: string, key: string | undefined, body?: unknown): string {
    const { pathname } = new URL(uri);
    const text = body === undefined ? "" : JSON.stringify(body);
    const auth = key ? `Authorization: Bearer ${key}\r\n` : "";
    return `${method} ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
  }

  send(...requests: string[]): void {
    this.#socket.write(requests.join(""));
  }

  /** The next answer on the connection (every answer here is framed by Content-Length). */
  async answer(): Promise<Answer> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const lines = this.#buffer.subarray(0, end).toString("latin1").split("\r\n");
        const headers = Object.fromEntries(
          lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
        const length = Number(headers["content-length"]);
        if (this.#buffer.length >= end + 4 + length) {
          const body = this.#buffer.subarray(end + 4, end + 4 + length).toString("utf8");
          this.#buffer = this.#buffer.subarray(end + 4 + length);
          return { status: Number(lines[0]!.split(" ")[1]), headers, body };
        }
      }
      if (this.#socket.destroyed) throw new Error("the connection closed before the answer was whole");
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  async ask(method: string, uri: string, key: string | undefined, body?: unknown): Promise<Answer> {
    this.send(Connection.request(method, uri, key, body));
    return this.answer();
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** How many connections each replica of a service has taken from the router. */
async function connectionsTaken(target: string): Promise<number[]> {
  const token = readFileSync(join(stack.dataDir, "auth", "runtime-token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${stack.ports.runtimePort}/v1/services/${target}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const status = await jsonOf<{ replicas: { connectionsTaken: number }[] }>(res);
  const taken = status.replicas.map((r) => r.connectionsTaken);
  expect(taken.every((n) => Number.isInteger(n))).toBe(true);
  return taken;
}

/** The scoring port (the router's), from a scoring URI. */
const scoringPort = () => Number(new URL(counting.scoringUri).port);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("connections handed to replicas", () => {
  it("serves a connection's scoring requests from the replica, and sends whatever else it asks through the gateway", async () => {
    const before = sum(await connectionsTaken(counting.target));
    const c = new Connection(scoringPort());
    try {
      const first = await c.ask("POST", counting.scoringUri, counting.key, {});
      expect(first.status, first.body).toBe(200);
      expect(sum(await connectionsTaken(counting.target))).toBe(before + 1);
      const calls = (JSON.parse(first.body) as { calls: number }).calls;
      // Requests the replica does not serve, on the same connection: each gets the gateway's answer.
      const swagger = await c.ask("GET", counting.scoringUri.replace(/score$/, "swagger.json"), undefined);
      expect(swagger.status).toBe(200);
      expect((JSON.parse(swagger.body) as { swagger: string }).swagger).toBe("2.0");
      const wrongKey = await c.ask("POST", counting.scoringUri, "not-the-key", {});
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.headers["www-authenticate"]).toMatch(/^Bearer/);
      const other = await c.ask("POST", linear.scoringUri, linear.key, { data: [[1, 2, 3]] });
      expect(other.status, other.body).toBe(200);
      expect(JSON.parse(other.body)).toEqual([14]);
      const missing = await c.ask("POST", counting.scoringUri.replace("handcount", "nosuchservice"), counting.key, {});
      expect(missing.status).toBe(404);
      // And scoring again, on the same connection, reaches the same driver, which counted nothing else.
      const again = await c.ask("POST", counting.scoringUri, counting.key, {});
      expect(again.status, again.body).toBe(200);
      expect((JSON.parse(again.body) as { calls: number }).calls).toBe(calls + 1);
    } finally {
      c.close();
    }
  });

  it("loses none of the bytes read to route a connection: pipelined requests are all answered, in order", async () => {
    const c = new Connection(scoringPort());
    try {
      const rows = Array.from({ length: 20 }, (_, i) => [i, 0, 0]);
      // One write: the router reads all of it with the first request's head.
      c.send(...rows.map((row) => Connection.request("POST", linear.scoringUri, linear.key, { data: [row] })));
      for (const row of rows) {
        const answer = await c.answer();
        expect(answer.status, answer.body).toBe(200);
        expect(JSON.parse(answer.body)).toEqual([row[0]]);
      }
    } finally {
      c.close();
    }
  });

  it("answers with the new keys at once on a connection a replica holds, once they are regenerated", async () => {
    const d = await deployer.deploy("handkeys", COUNTING_DRIVER, { numReplicas: 1 });
    const c = new Connection(scoringPort());
    try {
      expect((await c.ask("POST", d.scoringUri, d.key, {})).status).toBe(200);
      const regenerated = await api.post(`${A}/services/${d.service.id}/keys`, { keyType: "Primary" });
      expect(regenerated.status).toBe(200);
      expect((await c.ask("POST", d.scoringUri, d.key, {})).status).toBe(401);
      expect((await c.ask("POST", d.scoringUri, regenerated.body.primaryKey as string, {})).status).toBe(200);
    } finally {
      c.close();
    }
  });

  it("hands a long-lived connection on again after its lease, and keeps a keep-alive client whole through a scale-down", async () => {
    const d = await deployer.deploy("handscale", LINEAR_DRIVER, { numReplicas: 2 });
    const target = d.scoringUri.split("/service/")[1]!.split("/")[0]!;
    const clients = Array.from({ length: 4 }, () => new Connection(scoringPort()));
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const loops = clients.map(async (c) => {
      while (!stop) {
        const answer = await c
          .ask("POST", d.scoringUri, d.key, { data: [[1, 1, 1]] })
          .catch((err: Error) => ({ status: 0, body: err.message }));
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.body}`);
        answered++;
        if (answer.status === 0) return;
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 2500));
      // Leases ended and the connections were handed on: both replicas took connections.
      const taken = await connectionsTaken(target);
      expect(taken).toHaveLength(2);
      expect(sum(taken)).toBeGreaterThan(4);
      expect(Math.min(...taken)).toBeGreaterThan(0);
      const update = await api.put(`${A}/services/${d.service.id}`, { numReplicas: 1 });
      expect(update.status, update.text).toBe(202);
      for (let i = 0; i < 100 && (await connectionsTaken(target)).length !== 1; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await connectionsTaken(target)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
    }
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(100);
  });
});

describe("with SCORING_CONNECTION_HANDOFF=off", () => {
  it("relays every request through the gateway: no replica takes a connection", async () => {
    const relayed = await startLocalStack({ env: { PYTHON, OPERATION_STALL_SECONDS: "30", SCORING_CONNECTION_HANDOFF: "off" } });
    try {
      const client = new ApiClient(relayed.apiBaseUrl, await (await tokensFor(relayed.dataDir))());
      const d = await new Deployer(client, new TestBlobs(relayed.ports.blobPort), A).deploy("relayed", LINEAR_DRIVER, { numReplicas: 1 });
      const c = new Connection(Number(new URL(d.scoringUri).port));
      try {
        for (let i = 0; i < 3; i++) {
          const answer = await c.ask("POST", d.scoringUri, d.key, { data: [[i, 0, 0]] });
          expect(answer.status, answer.body).toBe(200);
          expect(JSON.parse(answer.body)).toEqual([i]);
        }
      } finally {
        c.close();
      }
      const token = readFileSync(join(relayed.dataDir, "auth", "runtime-token"), "utf8").trim();
      const target = d.scoringUri.split("/service/")[1]!.split("/")[0]!;
      const status = await jsonOf<{ replicas: { connectionsTaken: number }[] }>(
        await fetch(`http://127.0.0.1:${relayed.ports.runtimePort}/v1/services/${target}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      expect(status.replicas.map((r) => r.connectionsTaken)).toEqual([0]);
    } finally {
      await relayed.stop();
    }
  });
});
