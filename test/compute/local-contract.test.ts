import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalComputeTarget } from "../../shared/compute/local-compute-target.js";
import { LocalOciBuilder } from "../../shared/image-building/local-oci-builder.js";
import { UrlGuard } from "../../shared/image-building/url-guard.js";
import { BuildLog } from "../../shared/image-building/build-log.js";
import type { ManifestDocument, ModelDocument } from "../../shared/store/documents.js";
import { freePorts } from "../../devhost/ports.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { computeTargetContract, type ImageKind } from "../support/compute-target-contract.js";
import { COUNTING_DRIVER, FAILING_INIT_DRIVER, LINEAR_DRIVER, LINEAR_MODEL, SLOW_INIT_DRIVER } from "../fixtures/drivers.js";

const ACCOUNT = "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/contract/accounts/local";
let content: Server;
let runtime: ChildProcess;
let target: LocalComputeTarget;
let dataDir: string;
const images = new Map<ImageKind, { location: string; digest: string }>();

beforeAll(async () => {
  // The drivers and the model, served on loopback for the builder to fetch.
  const files: Record<string, string> = {
    "/good/score.py": LINEAR_DRIVER,
    "/other/score.py": COUNTING_DRIVER,
    "/broken/score.py": FAILING_INIT_DRIVER,
    "/slow/score.py": SLOW_INIT_DRIVER,
    "/model.json": LINEAR_MODEL,
  };
  content = createServer((req, res) => {
    const body = files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200, { "content-length": Buffer.byteLength(body ?? "") });
    res.end(body ?? "");
  });
  await new Promise<void>((r) => content.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(content.address() as { port: number }).port}`;
  const imagesDir = mkdtempSync(join(tmpdir(), "mm-contract-images-"));
  const python = process.env.PYTHON ?? "python3";
  const builder = new LocalOciBuilder({
    imagesDir,
    scoringServerDir: join(PROJECT_ROOT, "scoring"),
    baseImage: "python:3.11-slim",
    python,
    guard: new UrlGuard([origin]),
    downloads: { maxBytes: 1024 ** 3, idleMs: 30_000 },
  });
  const now = new Date().toISOString();
  const model: ModelDocument = {
    id: "m",
    pk: ACCOUNT,
    kind: "model",
    name: "linear",
    version: 1,
    mimeType: "application/json",
    url: `${origin}/model.json`,
    createdAt: now,
  };
  for (const kind of ["good", "other", "broken", "slow"] as ImageKind[]) {
    const manifest: ManifestDocument = {
      id: `mf-${kind}`,
      pk: ACCOUNT,
      kind: "manifest",
      name: kind,
      version: 1,
      driverProgram: "score.py",
      assets: [{ id: "score.py", url: `${origin}/${kind}/score.py` }],
      modelIds: ["m"],
      modelType: "Registered",
      targetRuntime: { runtimeType: "Python", properties: {} },
      webserviceType: "Realtime",
      createdTime: now,
    };
    images.set(
      kind,
      await builder
        .build({
          imageId: `img-${kind}`,
          imageName: kind,
          version: 1,
          accountPath: ACCOUNT,
          accountName: "local",
          partition: ACCOUNT,
          accountCreatedAt: "2026-01-01T00:00:00Z",
          manifest,
          models: [model],
          log: new BuildLog(),
        })
        .then((r) => ({ location: r.imageLocation, digest: r.digest })),
    );
  }

  // The local compute runtime, as the stack starts it.
  dataDir = mkdtempSync(join(tmpdir(), "mm-contract-runtime-"));
  const tokenFile = join(dataDir, "token");
  writeFileSync(tokenFile, "contract-runtime-token");
  const [controlPort, gatewayPort] = (await freePorts(2)) as [number, number];
  runtime = fork(
    join(PROJECT_ROOT, "dist", "devhost", "runtime", "main.js"),
    [join(dataDir, "runtime"), String(controlPort), String(gatewayPort)],
    {
      env: { ...process.env, LOCAL_RUNTIME_TOKEN_FILE: tokenFile, PYTHON: python, RUNTIME_ROLLOUT_TIMEOUT_MS: "15000" },
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    runtime.once("exit", (code) => reject(new Error(`the runtime stopped (exit ${code})`)));
    runtime.on("message", (m: { ready?: boolean }) => m?.ready && resolve());
  });
  target = new LocalComputeTarget({
    controlUrl: `http://127.0.0.1:${controlPort}`,
    controlToken: "contract-runtime-token",
    scoringBaseUrl: `http://127.0.0.1:${gatewayPort}`,
    ociLayoutDir: join(imagesDir, "oci"),
  });
}, 120_000);

afterAll(async () => {
  if (runtime && runtime.exitCode === null) {
    const exited = new Promise((r) => runtime.once("exit", r));
    runtime.kill("SIGTERM");
    await exited;
  }
  content?.close();
});

/** A deployment of one replica running an image of that kind. */
const specOf = (targetName: string, deploymentId: string, kind: ImageKind) => ({
  targetName,
  deploymentId,
  image: images.get(kind)!,
  replicas: 1,
  maxConcurrentRequestsPerContainer: 5,
  keys: { primary: "p", secondary: "s" },
  env: {},
});

computeTargetContract("the local runtime", () => ({ target, spec: specOf }));

describe("the local runtime's desired state", () => {
  it("goes back to the deployment that serves when a rollout is abandoned, so that a restart does not bring the abandoned one up", async () => {
    const spec = (deploymentId: string, kind: ImageKind) => specOf("keep-1a2b3c", deploymentId, kind);
    const saved = () =>
      (JSON.parse(readFileSync(join(dataDir, "runtime", "services.json"), "utf8")) as { name: string; deploymentId: string }[]).find(
        (s) => s.name === "keep-1a2b3c",
      );
    await target.deploy(spec("serving", "good"));
    for (let i = 0; i < 600 && (await target.rolloutState("keep-1a2b3c", "serving")).state === "InProgress"; i++)
      await new Promise((r) => setTimeout(r, 100));
    await target.deploy(spec("stalled", "slow"));
    expect(saved()?.deploymentId).toBe("stalled");
    expect((await target.abandon("keep-1a2b3c", "stalled", "too slow")).state).toBe("Failed");
    expect(saved()?.deploymentId).toBe("serving");
    await target.delete("keep-1a2b3c");
  });
});
