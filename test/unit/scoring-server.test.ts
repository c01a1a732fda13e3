import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { directoryOf } from "../fixtures/archives.js";
import { freePort } from "../support/ports.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { LINEAR_DRIVER, LINEAR_MODEL, SLOW_DRIVER } from "../fixtures/drivers.js";

const SERVER = join(PROJECT_ROOT, "scoring", "server.py");
let server: ChildProcess | undefined;
afterEach(() => {
  server?.kill();
  server = undefined;
});

async function start(files: Record<string, string>, env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  server = spawn(process.env.PYTHON ?? "python3", [SERVER], {
    env: { ...process.env, AML_APP_ROOT: directoryOf(files), AML_DRIVER: "score.py", AML_HOST: "127.0.0.1", AML_PORT: String(port), ...env },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${base}/`).then(() => true, () => false)) return base;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the scoring server did not listen");
}

async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${base}/`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("never healthy");
}

describe("the scoring server", () => {
  it("answers 503 until init() returns, then 200, and scores with run()", async () => {
    const slowInit = LINEAR_DRIVER.replace("def init():", "def init():\n    import time; time.sleep(0.6)");
    const base = await start({ "score.py": slowInit, "model.json": LINEAR_MODEL });
    const early = await fetch(`${base}/`);
    expect(early.status).toBe(503);
    expect((await fetch(`${base}/score`, { method: "POST", body: '{"data":[[1,1,1]]}' })).status).toBe(503);
    await waitHealthy(base);
    const res = await fetch(`${base}/score`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ data: [[1, 0, 0], [0, 0, 1]] }) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual([1, 3]);
  });

  it("turns a driver exception into that request's 500 with a JSON error, and keeps serving", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    await waitHealthy(base);
    const bad = await fetch(`${base}/score`, { method: "POST", body: "not json" });
    expect(bad.status).toBe(500);
    expect((await bad.json()).error).toMatch(/JSONDecodeError/);
    const good = await fetch(`${base}/score`, { method: "POST", body: '{"data":[[2,0,0]]}' });
    expect(await good.json()).toEqual([2]);
  });

  it("stays unhealthy, saying why, when init() fails", async () => {
    const base = await start({ "score.py": "def init():\n    raise RuntimeError('no model')\n\ndef run(x):\n    return x\n" });
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "failed", error: "RuntimeError: no model" });
  });

  it("serves Swagger, from the schema file when there is one", async () => {
    const schema = { input: { input_df: { internal: { type: "object", properties: { data: { type: "array" } } }, example: { data: [[1, 2, 3]] } } }, output: {} };
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL, "service_schema.json": JSON.stringify(schema) });
    const swagger = await (await fetch(`${base}/swagger.json`)).json();
    expect(swagger.swagger).toBe("2.0");
    const body = swagger.paths["/score"].post.parameters[0];
    expect(body.schema).toEqual(schema.input.input_df.internal);
    expect(body["x-example"]).toEqual({ data: [[1, 2, 3]] });
  });

  it("with AML_KEYS_DIR, scores only with the primary or secondary key, and follows a changed key file", async () => {
    const keysDir = directoryOf({ primaryKey: "first-primary", secondaryKey: "first-secondary" });
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL }, { AML_KEYS_DIR: keysDir });
    await waitHealthy(base);
    const score = (key?: string) => fetch(`${base}/score`, { method: "POST", headers: key ? { authorization: `Bearer ${key}` } : {}, body: '{"data":[[1,1,1]]}' });
    const missing = await score();
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="scoring"');
    expect((await score("wrong")).status).toBe(401);
    expect((await score("first-primary")).status).toBe(200);
    expect((await score("first-secondary")).status).toBe(200);
    writeFileSync(join(keysDir, "primaryKey"), "second-primary");
    await new Promise((r) => setTimeout(r, 700));
    expect((await score("first-primary")).status).toBe(401);
    expect(await (await score("second-primary")).json()).toEqual([6]);
  });

  it("with AML_MAX_CONCURRENT_REQUESTS, runs that many at once, queues a few, and turns the rest away with 503 and Retry-After", async () => {
    const base = await start({ "score.py": SLOW_DRIVER }, { AML_MAX_CONCURRENT_REQUESTS: "1" });
    await waitHealthy(base);
    // One runs, ten wait (the queue is ten per slot), the rest are refused at once.
    const answers = await Promise.all(Array.from({ length: 14 }, () => fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 0.2 }) })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(11);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((a) => a.headers.get("retry-after") === "1")).toBe(true);
  });

  it("with App Insights enabled and a connection string, sends each scoring request to the ingestion API", async () => {
    // A stand-in for the ingestion endpoint, on loopback.
    const tracked: any[] = [];
    const ingestion = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.url === "/v2.1/track") tracked.push(...JSON.parse((req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"itemsReceived":1,"itemsAccepted":1,"errors":[]}');
      });
    });
    await new Promise<void>((r) => ingestion.listen(0, "127.0.0.1", r));
    try {
      const port = (ingestion.address() as { port: number }).port;
      const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL }, { AML_APP_INSIGHTS_ENABLED: "true", APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=abc-123;IngestionEndpoint=http://127.0.0.1:${port}/` });
      await waitHealthy(base);
      expect((await fetch(`${base}/score`, { method: "POST", body: '{"data":[[1,1,1]]}' })).status).toBe(200);
      expect((await fetch(`${base}/score`, { method: "POST", body: "{not json" })).status).toBe(500);
      for (let i = 0; i < 80 && tracked.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(tracked.map((e) => [e.name, e.iKey, e.data.baseType, e.data.baseData.name, e.data.baseData.responseCode, e.data.baseData.success])).toEqual([
        ["Microsoft.ApplicationInsights.Request", "abc-123", "RequestData", "POST /score", "200", true],
        ["Microsoft.ApplicationInsights.Request", "abc-123", "RequestData", "POST /score", "500", false],
      ]);
    } finally {
      ingestion.close();
    }
  });
});
