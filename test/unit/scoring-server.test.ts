import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { directoryOf } from "../fixtures/archives.js";
import { freePort } from "../support/ports.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { BATCH_DRIVER, LINEAR_DRIVER, LINEAR_MODEL, SLOW_DRIVER } from "../fixtures/drivers.js";
import { TYPED_2017_DRIVER, runDriverScript } from "../fixtures/drivers-2017.js";
import { requirePythonModules } from "../support/tools.js";
import { jsonOf } from "../support/http.js";
import type { Swagger } from "../support/swagger.js";

const SERVER = join(PROJECT_ROOT, "scoring", "server.py");
let server: ChildProcess | undefined;
afterEach(() => {
  server?.kill();
  server = undefined;
});

async function start(
  files: Record<string, string>,
  env: Record<string, string> = {},
  options: { python?: string; appRoot?: string } = {},
): Promise<string> {
  const port = await freePort();
  server = spawn(options.python ?? process.env.PYTHON ?? "python3", [SERVER], {
    env: {
      ...process.env,
      AML_APP_ROOT: options.appRoot ?? directoryOf(files),
      AML_DRIVER: "score.py",
      AML_HOST: "127.0.0.1",
      AML_PORT: String(port),
      PYTHONDONTWRITEBYTECODE: "1",
      ...env,
    },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/`).then(
        () => true,
        () => false,
      )
    )
      return base;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the scoring server did not listen");
}

async function waitFailed(base: string): Promise<{ error: string; details: string }> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${base}/`);
    const body = await jsonOf<{ status: string; error: string; details: string }>(res);
    if (body.status === "failed") {
      expect(res.status).toBe(503);
      return body;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("never failed");
}

async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${base}/`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("never healthy");
}

describe("the scoring server's HTTP", () => {
  it("answers pipelined requests in order on one keep-alive connection, and 100 Continue before a body that waits for it", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    await waitHealthy(base);
    const port = Number(new URL(base).port);
    const post = (rows: string) => `POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${rows.length}\r\n\r\n${rows}`;
    const answers = await rawExchange(
      port,
      post('{"data": [[1, 1, 1]]}') + "GET /swagger.json HTTP/1.1\r\nHost: x\r\n\r\n" + post('{"data": [[2, 2, 2]]}'),
    );
    const statuses = [...answers.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1]);
    expect(statuses, answers).toEqual(["200", "200", "200"]);
    expect(answers.indexOf("[6]")).toBeLessThan(answers.indexOf('"swagger"'));
    expect(answers.indexOf('"swagger"')).toBeLessThan(answers.indexOf("[12]"));

    const body = '{"data": [[3, 3, 3]]}';
    const expecting = connect({ host: "127.0.0.1", port });
    let seen = "";
    expecting.on("data", (c: Buffer) => (seen += c.toString("utf8")));
    expecting.write(`POST /score HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let i = 0; i < 100 && !seen.includes("100 Continue"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    expecting.end(body);
    await new Promise((r) => expecting.once("end", r));
    expect(seen).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n\[18\]$/);
  });

  it("refuses a request that could be read two ways, and a head too large, and closes the connection", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    await waitHealthy(base);
    const port = Number(new URL(base).port);
    const smuggled = await rawExchange(
      port,
      "POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    );
    expect(smuggled).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(smuggled).toContain("Connection: close");
    expect([...smuggled.matchAll(/HTTP\/1\.1 /g)]).toHaveLength(1);
    const huge = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
  });

  it("lets go of a client that stalls mid-request, while it serves others, and answers health while a slow run() works", async () => {
    const base = await start({ "score.py": SLOW_DRIVER }, { AML_IDLE_TIMEOUT_SECONDS: "1" });
    await waitHealthy(base);
    const port = Number(new URL(base).port);
    const stalled = connect({ host: "127.0.0.1", port });
    const closed = new Promise<number>((r) => stalled.once("close", () => r(Date.now())));
    stalled.on("data", () => undefined);
    const since = Date.now();
    stalled.write("POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
    // Quick calls first (run() then runs on the event loop), then a slow one, which moves run()
    // to the worker threads: health answers at once while the next slow run() works.
    for (let i = 0; i < 5; i++)
      expect((await fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 0 }) })).status).toBe(200);
    await fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 0.3 }) });
    const slow = fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 1.5 }) });
    await new Promise((r) => setTimeout(r, 300));
    const asked = Date.now();
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect(Date.now() - asked).toBeLessThan(300);
    expect((await slow).status).toBe(200);
    const closedAt = await closed;
    expect(closedAt - since).toBeGreaterThanOrEqual(900);
    expect(closedAt - since).toBeLessThan(4000);
  });
});

describe("the scoring server's batching", () => {
  const score = (base: string, body: object) =>
    fetch(`${base}/score`, { method: "POST", body: JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { n: number; batch: number },
    }));

  it("gathers concurrent requests into run_batch() calls of at most AML_BATCH_MAX_SIZE, each answered with its own result", async () => {
    const base = await start({ "score.py": BATCH_DRIVER }, { AML_BATCH_MAX_SIZE: "8", AML_BATCH_MAX_WAIT_MS: "20" });
    await waitHealthy(base);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => score(base, { n })));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(answers.map((a) => a.body.n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    const sizes = answers.map((a) => a.body.batch as number);
    expect(Math.max(...sizes)).toBe(8);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
  });

  it("fails a bad input alone: its own 500, the others of its batch answered by run() one by one", async () => {
    const base = await start({ "score.py": BATCH_DRIVER }, { AML_BATCH_MAX_SIZE: "8", AML_BATCH_MAX_WAIT_MS: "200" });
    await waitHealthy(base);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, n) => score(base, n === 3 ? { n, fail: true } : { n })));
    expect(answers[3]).toEqual({ status: 500, body: { error: "ValueError: bad input 3" } });
    for (const [n, a] of answers.entries()) if (n !== 3) expect(a).toEqual({ status: 200, body: { n, batch: 1 } });
  });

  it("sends a batch once it is full, and a lone request after AML_BATCH_MAX_WAIT_MS", async () => {
    const base = await start({ "score.py": BATCH_DRIVER }, { AML_BATCH_MAX_SIZE: "4", AML_BATCH_MAX_WAIT_MS: "400" });
    await waitHealthy(base);
    let started = Date.now();
    const full = await Promise.all(Array.from({ length: 4 }, (_, n) => score(base, { n })));
    expect(full.map((a) => a.body.batch)).toEqual([4, 4, 4, 4]);
    expect(Date.now() - started).toBeLessThan(350);
    started = Date.now();
    expect((await score(base, { n: 9 })).body).toEqual({ n: 9, batch: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });
});

describe("the scoring server", () => {
  it("answers 503 until init() returns, then 200, and scores with run()", async () => {
    const slowInit = LINEAR_DRIVER.replace("def init():", "def init():\n    import time; time.sleep(0.6)");
    const base = await start({ "score.py": slowInit, "model.json": LINEAR_MODEL });
    const early = await fetch(`${base}/`);
    expect(early.status).toBe(503);
    expect((await fetch(`${base}/score`, { method: "POST", body: '{"data":[[1,1,1]]}' })).status).toBe(503);
    await waitHealthy(base);
    const res = await fetch(`${base}/score`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        data: [
          [1, 0, 0],
          [0, 0, 1],
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual([1, 3]);
  });

  it("turns a driver exception into that request's 500 with a JSON error, and keeps serving", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    await waitHealthy(base);
    const bad = await fetch(`${base}/score`, { method: "POST", body: "not json" });
    expect(bad.status).toBe(500);
    expect((await jsonOf<{ error: string }>(bad)).error).toMatch(/JSONDecodeError/);
    const good = await fetch(`${base}/score`, { method: "POST", body: '{"data":[[2,0,0]]}' });
    expect(await good.json()).toEqual([2]);
  });

  it("stays unhealthy when init() fails, with the error and the traceback's last lines", async () => {
    const base = await start({
      "score.py": "def init():\n    load()\n\ndef load():\n    raise RuntimeError('no model')\n\ndef run(x):\n    return x\n",
    });
    const failure = await waitFailed(base);
    expect(failure.error).toBe("init() failed: RuntimeError: no model");
    expect(failure.details).toContain('score.py", line 2, in init');
    expect(failure.details).toContain('score.py", line 5, in load');
    expect(failure.details.trim().split("\n").pop()).toBe("RuntimeError: no model");
  });

  it("names a module the driver lacks and how to provide it", async () => {
    const base = await start({
      "score.py": "import json\nimport mm_no_such_module.sub\n\ndef init():\n    pass\n\ndef run(x):\n    return x\n",
    });
    const failure = await waitFailed(base);
    expect(failure.error).toMatch(
      /^loading the driver score\.py failed: ModuleNotFoundError: No module named 'mm_no_such_module'\. The driver needs the Python module 'mm_no_such_module', which this service's Python \(.+\) does not have: add mm_no_such_module to the manifest's pip requirements \(-p requirements\.txt\) or conda file \(-c\)/,
    );
  });

  it("serves Swagger without a schema, saying run() gets the body as text", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    const swagger = await jsonOf<Swagger>(await fetch(`${base}/swagger.json`));
    expect(swagger.swagger).toBe("2.0");
    expect(swagger.paths["/score"]!.post!.parameters![0]!.schema).toEqual({ $ref: "#/definitions/ServiceInput" });
    expect(swagger.definitions.ServiceInput.description).toMatch(/no schema/);
    expect(swagger.definitions.ServiceInput.example).toBeUndefined();
  });

  it("with AML_KEYS_DIR, scores only with the primary or secondary key, and follows a changed key file", async () => {
    const keysDir = directoryOf({ primaryKey: "first-primary", secondaryKey: "first-secondary" });
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL }, { AML_KEYS_DIR: keysDir });
    await waitHealthy(base);
    const score = (key?: string) =>
      fetch(`${base}/score`, { method: "POST", headers: key ? { authorization: `Bearer ${key}` } : {}, body: '{"data":[[1,1,1]]}' });
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
    const answers = await Promise.all(
      Array.from({ length: 14 }, () => fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 0.2 }) })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(11);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((a) => a.headers.get("retry-after") === "1")).toBe(true);
  });

  it("with App Insights enabled and a connection string, sends each scoring request to the ingestion API", async () => {
    // A stand-in for the ingestion endpoint, on loopback.
    const tracked: {
      name: string;
      iKey: string;
      data: { baseType: string; baseData: { name: string; responseCode: string; success: boolean } };
    }[] = [];
    const ingestion = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.url === "/v2.1/track")
          tracked.push(...JSON.parse((req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"itemsReceived":1,"itemsAccepted":1,"errors":[]}');
      });
    });
    await new Promise<void>((r) => ingestion.listen(0, "127.0.0.1", r));
    try {
      const port = (ingestion.address() as { port: number }).port;
      const base = await start(
        { "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL },
        {
          AML_APP_INSIGHTS_ENABLED: "true",
          APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=abc-123;IngestionEndpoint=http://127.0.0.1:${port}/`,
        },
      );
      await waitHealthy(base);
      expect((await fetch(`${base}/score`, { method: "POST", body: '{"data":[[1,1,1]]}' })).status).toBe(200);
      expect((await fetch(`${base}/score`, { method: "POST", body: "{not json" })).status).toBe(500);
      for (let i = 0; i < 80 && tracked.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(
        tracked.map((e) => [e.name, e.iKey, e.data.baseType, e.data.baseData.name, e.data.baseData.responseCode, e.data.baseData.success]),
      ).toEqual([
        ["Microsoft.ApplicationInsights.Request", "abc-123", "RequestData", "POST /score", "200", true],
        ["Microsoft.ApplicationInsights.Request", "abc-123", "RequestData", "POST /score", "500", false],
      ]);
    } finally {
      ingestion.close();
    }
  });
});

/** Debian's Python, with numpy, pandas and scikit-learn (python3-pandas, python3-sklearn). */
const DEBIAN_PYTHON = "/usr/bin/python3";

describe("the scoring server, as the 2017 runtime behaved", () => {
  /** An app directory with a driver whose `python driver.py` made its schema. */
  function appWithSchema(driver: string): string {
    requirePythonModules(DEBIAN_PYTHON, ["numpy", "pandas"], "python3-pandas");
    const dir = directoryOf({ "score.py": driver });
    runDriverScript(dir, "score.py", DEBIAN_PYTHON);
    return dir;
  }

  const post = (base: string, body: string) =>
    fetch(`${base}/score`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("calls run() with the schema's typed arguments: a DataFrame in the schema's column order and dtypes, an ndarray, a plain value, a default", async () => {
    const base = await start({}, {}, { python: DEBIAN_PYTHON, appRoot: appWithSchema(TYPED_2017_DRIVER) });
    await waitHealthy(base);
    // Keys in another order than the schema's columns, an int where the schema has a float.
    const res = await post(
      base,
      JSON.stringify({
        label: "x",
        matrix: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        frame: [{ c: "y", a: 7, b: 1 }],
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      frame: [["b", "a", "c"], ["float64", "int64", "object"], [[1.0, 7, "y"]]],
      matrix: [
        "int32",
        [2, 3],
        [
          [2, 4, 6],
          [8, 10, 12],
        ],
      ],
      label: ["str", "x"],
      scale: 2,
    });
    const scaled = await post(base, JSON.stringify({ label: "x", matrix: [[1, 1, 1]], frame: [{ a: 1, b: 1, c: "" }], scale: 10 }));
    expect((await jsonOf<{ matrix: unknown[] }>(scaled)).matrix[2]).toEqual([[10, 10, 10]]);
  });

  it("answers 400 naming what to fix when the body does not fit the schema", async () => {
    const base = await start({}, {}, { python: DEBIAN_PYTHON, appRoot: appWithSchema(TYPED_2017_DRIVER) });
    await waitHealthy(base);
    const cases: [string, string][] = [
      [
        JSON.stringify({ frame: [], matrix: [[1, 2, 3]], label: "x", colour: 1 }),
        'Unknown argument "colour": run() takes frame, matrix, label, scale.',
      ],
      [JSON.stringify({ frame: [], label: "x" }), 'The request body lacks "matrix" (run()\'s arguments: frame, matrix, label, scale).'],
      [JSON.stringify([1, 2]), "The request body must be a JSON object whose keys are run()'s arguments: frame, matrix, label, scale."],
      ["{not json", "The request body is not valid JSON"],
      [
        JSON.stringify({ frame: [{ a: 1, b: 1 }], matrix: [[1, 2, 3]], label: "x" }),
        'Argument "frame" (PANDAS): record 0 lacks the columns "c".',
      ],
      [JSON.stringify({ frame: [], matrix: [[1, 2]], label: "x" }), 'Argument "matrix" (NUMPY): dimension 1 has 2 items, expected 3.'],
      [JSON.stringify({ frame: [], matrix: [[1, 2, 3]], label: 5 }), 'Argument "label" (STANDARD): expected a string, got an integer.'],
    ];
    for (const [body, error] of cases) {
      const res = await post(base, body);
      expect(res.status, body).toBe(400);
      expect((await jsonOf<{ error: string }>(res)).error, body).toContain(error);
    }
  });

  it("describes each argument in Swagger from the schema, with the example, and never shows the pickle", async () => {
    const dir = appWithSchema(TYPED_2017_DRIVER);
    const base = await start({}, { AML_SERVICE_NAME: "typed" }, { python: DEBIAN_PYTHON, appRoot: dir });
    const text = await (await fetch(`${base}/swagger.json`)).text();
    const swagger = JSON.parse(text) as Swagger;
    expect(swagger.info.title).toBe("typed");
    const input = swagger.definitions.ServiceInput;
    expect(Object.keys(input.properties)).toEqual(["frame", "matrix", "label", "scale"]);
    expect(input.properties.frame).toEqual({
      type: "array",
      items: {
        type: "object",
        properties: { b: { type: "number", format: "double" }, a: { type: "integer", format: "int64" }, c: { type: "string" } },
      },
    });
    expect(input.properties.matrix).toEqual({ type: "array", items: { type: "array", items: { type: "integer", format: "int32" } } });
    expect(input.example).toEqual({ frame: [{ b: 1.5, a: 2, c: "x" }], matrix: [[1, 2, 3]], label: "name", scale: 3 });
    const pickles = Object.values(
      JSON.parse(readFileSync(join(dir, "service_schema.json"), "utf8")).input as Record<string, { internal: string }>,
    ).map((e) => e.internal);
    for (const pickle of pickles) expect(text).not.toContain(pickle.slice(0, 40));
    // The example scores as it is: what `mm service run` sends without -d.
    await waitHealthy(base);
    expect((await post(base, JSON.stringify(input.example))).status).toBe(200);
  });

  it("JSON-encodes every result, a string included, as the 2017 runtime did", async () => {
    const driver = `import json
import numpy as np

def init():
    pass

def run(raw):
    kind = json.loads(raw)["kind"]
    if kind == "dumped":
        return json.dumps(str("Iris-setosa"))
    if kind == "text":
        return "plain text"
    if kind == "numpy":
        return np.array([1.5, 2.5])
    return {"n": np.int64(3)}
`;
    const base = await start({ "score.py": driver }, {}, { python: DEBIAN_PYTHON });
    await waitHealthy(base);
    const answer = async (kind: string) => (await post(base, JSON.stringify({ kind }))).text();
    expect(await answer("dumped")).toBe('"\\"Iris-setosa\\""');
    expect(JSON.parse(await answer("dumped"))).toBe('"Iris-setosa"');
    expect(await answer("text")).toBe('"plain text"');
    expect(JSON.parse(await answer("numpy"))).toEqual([1.5, 2.5]);
    expect(JSON.parse(await answer("scalar"))).toEqual({ n: 3 });
  });

  it("loads a driver whatever its file is called (the 2017 CLI named it driver)", async () => {
    const base = await start({ driver: LINEAR_DRIVER, "model.json": LINEAR_MODEL }, { AML_DRIVER: "driver" });
    await waitHealthy(base);
    expect(await (await post(base, '{"data":[[1,1,1]]}')).json()).toEqual([6]);
  });

  it("refuses to start with a schema that does not fit run(), or one with a Spark argument, saying why", async () => {
    const dir = appWithSchema(TYPED_2017_DRIVER);
    writeFileSync(join(dir, "score.py"), "def init():\n    pass\n\ndef run(frame, other):\n    return 1\n");
    let base = await start({}, {}, { python: DEBIAN_PYTHON, appRoot: dir });
    expect((await waitFailed(base)).error).toBe(
      "reading the schema service_schema.json failed: SchemaError: the schema describes matrix, label, scale, but run() takes (frame, other)",
    );
    server?.kill();
    const schema = JSON.parse(readFileSync(join(dir, "service_schema.json"), "utf8"));
    schema.input = { df: { internal: '{"type":"struct","fields":[]}', swagger: { type: "array", example: [] }, type: 2 } };
    writeFileSync(join(dir, "service_schema.json"), JSON.stringify(schema));
    writeFileSync(join(dir, "score.py"), "def init():\n    pass\n\ndef run(df):\n    return 1\n");
    base = await start({}, {}, { python: DEBIAN_PYTHON, appRoot: dir });
    expect((await waitFailed(base)).error).toMatch(
      /^reading the schema service_schema\.json failed: SchemaError: the schema's argument 'df' is a Spark DataFrame \(DataTypes\.SPARK\), and no Spark runs in this service/,
    );
  });

  it("reads a chunked body whole, and refuses a broken one with 400", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL });
    await waitHealthy(base);
    const { port } = new URL(base);
    const chunked = await rawExchange(
      Number(port),
      'POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"dat\r\n10\r\na": [[1, 2, 3]]}\r\n0\r\n\r\n',
    );
    expect(chunked).toMatch(/^HTTP\/1\.[01] 200/);
    expect(chunked.slice(chunked.indexOf("\r\n\r\n") + 4)).toBe("[14]");
    const broken = await rawExchange(
      Number(port),
      "POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    expect(broken).toMatch(/^HTTP\/1\.[01] 400/);
  });

  it("answers 413 with a JSON error to a body over AML_MAX_BODY_BYTES, read to its end rather than cut off", async () => {
    const base = await start({ "score.py": LINEAR_DRIVER, "model.json": LINEAR_MODEL }, { AML_MAX_BODY_BYTES: "1000" });
    await waitHealthy(base);
    const res = await fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ data: [Array(2000).fill(1)] }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "The request body is larger than 1000 bytes." });
    expect((await fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ data: [[1, 1, 1]] }) })).status).toBe(200);
  });

  it("reports itself stuck (503) while a run() outlives AML_REQUEST_TIMEOUT_SECONDS, and healthy once it returns", async () => {
    const base = await start({ "score.py": SLOW_DRIVER }, { AML_REQUEST_TIMEOUT_SECONDS: "1", AML_MAX_CONCURRENT_REQUESTS: "1" });
    await waitHealthy(base);
    const hanging = fetch(`${base}/score`, { method: "POST", body: JSON.stringify({ sleep: 2.5 }) });
    await new Promise((r) => setTimeout(r, 1500));
    const health = await fetch(`${base}/`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "stuck" });
    expect((await hanging).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });
});

/** Sends raw bytes on one connection and returns everything the server answers before closing it. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.end(request));
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString("utf8")));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}
