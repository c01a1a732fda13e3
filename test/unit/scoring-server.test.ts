import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { directoryOf } from "../fixtures/archives.js";
import { freePort } from "../support/ports.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

const SERVER = join(PROJECT_ROOT, "scoring", "server.py");
let server: ChildProcess | undefined;
afterEach(() => {
  server?.kill();
  server = undefined;
});

async function start(files: Record<string, string>): Promise<string> {
  const port = await freePort();
  server = spawn(process.env.PYTHON ?? "python3", [SERVER], {
    env: { ...process.env, AML_APP_ROOT: directoryOf(files), AML_DRIVER: "score.py", AML_HOST: "127.0.0.1", AML_PORT: String(port) },
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
});
