import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BlobSASPermissions, BlobServiceClient } from "@azure/storage-blob";
import { azuriteConnection, startBenchStack, type BenchStack } from "./local-stack.js";
import { API_VERSION } from "../../shared/schemas/api-version.js";

/** A small linear model: scoring costs little, so the benchmarks measure the servers. */
const BENCH_DRIVER = `import json

def init():
    global weights
    with open("model.json") as f:
        weights = json.load(f)["weights"]

def run(raw):
    rows = json.loads(raw)["data"]
    return [sum(w * x for w, x in zip(weights, row)) for row in rows]
`;
export const BENCH_BODY = JSON.stringify({
  data: [
    [1, 2, 3],
    [4, 5, 6],
  ],
});

export interface ScoringFixture {
  bench: BenchStack;
  account: string;
  headers: Record<string, string>;
  imageId: string;
  /** Debian's Python, where Flask and gunicorn install. */
  python: string;
}

async function api(f: { account: string; headers: Record<string, string> }, method: string, path: string, body?: unknown) {
  const res = await fetch(`${f.account}/${path}${path.includes("?") ? "&" : "?"}api-version=${API_VERSION}`, {
    method,
    headers: f.headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return { status: res.status, location: res.headers.get("operation-location"), body: text ? JSON.parse(text) : undefined };
}

async function waitOperation(
  f: { headers: Record<string, string> },
  location: string,
): Promise<{ state: string; resourceLocation: string; error?: unknown }> {
  for (;;) {
    const op = (await (await fetch(location, { headers: f.headers })).json()) as {
      state: string;
      resourceLocation: string;
      error?: unknown;
    };
    if (op.state === "Succeeded") return op;
    if (op.state === "Failed") throw new Error(`operation failed: ${JSON.stringify(op.error)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the image runs: a driver, and a model file beside it. */
export interface BenchApp {
  driver: string;
  model: { file: string; content: Buffer; mimeType: string };
}

const LINEAR_APP: BenchApp = {
  driver: BENCH_DRIVER,
  model: { file: "model.json", content: Buffer.from(JSON.stringify({ weights: [1, 2, 3] })), mimeType: "application/json" },
};

/** A stack with an image of the bench driver (or the app given), ready to deploy. */
export async function scoringFixture(log: (m: string) => void, app: BenchApp = LINEAR_APP): Promise<ScoringFixture> {
  const python = "/usr/bin/python3";
  process.env.PYTHON = python;
  const bench = await startBenchStack(log);
  const container = BlobServiceClient.fromConnectionString(azuriteConnection(bench.blobPort)).getContainerClient("bench");
  await container.createIfNotExists();
  await container.getBlockBlobClient("score.py").upload(app.driver, Buffer.byteLength(app.driver));
  await container.getBlockBlobClient(app.model.file).upload(app.model.content, app.model.content.length);
  const sas = (n: string) =>
    container
      .getBlockBlobClient(n)
      .generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 24 * 3600_000) });
  const f = {
    bench,
    account: `${bench.stack.apiBaseUrl}/${bench.stack.accountPath}`,
    headers: { authorization: `Bearer ${bench.token}`, "content-type": "application/json" },
    imageId: "",
    python,
  };
  const m = await api(f, "POST", "models", { name: "bench", mimeType: app.model.mimeType, url: await sas(app.model.file) });
  const mf = await api(f, "POST", "manifests", {
    name: "bench",
    driverProgram: "score.py",
    assets: [{ id: "score.py", url: await sas("score.py") }],
    modelIds: [m.body.id],
    targetRuntime: { runtimeType: "Python", properties: {} },
  });
  const img = await api(f, "POST", "images", { name: "bench", imageType: "Docker", computeResourceId: "local", manifestId: mf.body.id });
  const op = await waitOperation(f, img.location!);
  f.imageId = new URL(op.resourceLocation).pathname.split("/").pop()!;
  return f;
}

/** Creates a service; resolves when its operation ends, with its scoring URI and primary key. */
export async function deploy(
  f: ScoringFixture,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; scoringUri: string; key: string; targetName: string }> {
  const res = await api(f, "POST", "services", { name, imageId: f.imageId, computeResource: { id: "local" }, ...extra });
  const op = await waitOperation(f, res.location!);
  const service = (await (await fetch(op.resourceLocation, { headers: f.headers })).json()) as { id: string; scoringUri: string };
  const keys = (await api(f, "GET", `services/${service.id}/keys`)).body as { primaryKey: string };
  return {
    id: service.id,
    scoringUri: service.scoringUri,
    key: keys.primaryKey,
    targetName: service.scoringUri.split("/service/")[1]!.split("/")[0]!,
  };
}

export async function undeploy(f: ScoringFixture, id: string): Promise<void> {
  await api(f, "DELETE", `services/${id}`);
}

/** The local runtime's view of a service: its replicas' ports and the unpacked image. */
export async function replicaPorts(f: ScoringFixture, targetName: string): Promise<number[]> {
  const token = readFileSync(join(f.bench.dataDir, "auth", "runtime-token"), "utf8").trim();
  const runtime = (await (
    await fetch(`${f.bench.runtimeUrl}/v1/services/${targetName}`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { replicas: { port: number }[] };
  return runtime.replicas.map((r) => r.port);
}

/** The unpacked app directory of the image (driver and model), for peers that run the same driver. */
export function appDirOf(f: ScoringFixture): string {
  const runtimeDir = join(f.bench.dataDir, "runtime", "images");
  const digest = (
    JSON.parse(readFileSync(join(f.bench.dataDir, "runtime", "services.json"), "utf8")) as { image: { digest: string } }[]
  )[0]!.image.digest;
  return join(runtimeDir, digest.replace(":", "-"), "rootfs", "var", "azureml-app");
}

/** A Flask app calling the same driver, for gunicorn. */
export function writeFlaskApp(dir: string): void {
  writeFileSync(
    join(dir, "bench_flask_app.py"),
    `import score
from flask import Flask, request, Response
import json

score.init()
app = Flask(__name__)

@app.route("/score", methods=["POST"])
def run():
    result = score.run(request.get_data(as_text=True))
    return Response(result if isinstance(result, str) else json.dumps(result), mimetype="application/json")
`,
  );
}

/**
 * A FastAPI app calling the same driver, for uvicorn: the stack KServe's and MLServer's Python
 * servers run on. The endpoint is `async` and calls run() inline, FastAPI's fastest way for a
 * quick model (a plain `def` endpoint would go through a thread pool).
 */
export function writeFastApiApp(dir: string): void {
  writeFileSync(
    join(dir, "bench_fastapi_app.py"),
    `import json
import score
from fastapi import FastAPI, Request, Response

score.init()
app = FastAPI()

@app.post("/score")
async def run(request: Request):
    result = score.run((await request.body()).decode("utf-8"))
    return Response(result if isinstance(result, str) else json.dumps(result), media_type="application/json")
`,
  );
}
