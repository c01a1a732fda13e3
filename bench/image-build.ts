import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BlobSASPermissions, BlobServiceClient } from "@azure/storage-blob";
import { writeRandomFile } from "./support/random-file.js";
import { withPeakRss, type Benchmark, type BenchmarkContext } from "./harness.js";
import { PROJECT_ROOT, azuriteConnection, startBenchStack, type BenchStack } from "./support/local-stack.js";
import { API_VERSION } from "../shared/schemas/api-version.js";

const GiB = 1024 ** 3;

interface Fixture {
  bench: BenchStack;
  account: string;
  manifestId: string;
  baselineDir: string;
  outDir: string;
  modelBytes: number;
  builds: number;
}

const DRIVER = "def init():\n    pass\n\ndef run(raw):\n    return raw\n";

/**
 * `bench/image-build`: an image with a 1 GiB incompressible model, built through the API by the
 * local builder (fetch from Azurite, py_compile, three reproducible gzip layers, OCI layout),
 * against `tar -c <same files> | gzip -1` of the same files from local disk.
 * Targets (images issue): at most 1.5× the baseline; peak RSS of the host under 300 MB.
 */
export const imageBuild: Benchmark<Fixture> = {
  name: "image-build",
  title: "build an image with a 1 GiB incompressible model",
  subjectLabel: "POST images → operation Succeeded (local OCI builder)",
  baselineLabel: "tar -c <same files> | gzip -1",
  rounds: 3,
  warmUpRounds: 0,
  async setup(ctx: BenchmarkContext) {
    const modelBytes = ctx.smoke ? 1 << 20 : GiB;
    const baselineDir = join(ctx.workDir, "files");
    const outDir = join(ctx.workDir, "out");
    mkdirSync(join(baselineDir, "var", "azureml-app"), { recursive: true });
    mkdirSync(join(baselineDir, "var", "azureml-server"), { recursive: true });
    mkdirSync(outDir, { recursive: true });
    const modelPath = join(baselineDir, "var", "azureml-app", "model.bin");
    ctx.log(`image-build: writing a ${modelBytes} byte incompressible model`);
    await writeRandomFile(modelPath, modelBytes);
    writeFileSync(join(baselineDir, "var", "azureml-app", "score.py"), DRIVER);
    copyFileSync(join(PROJECT_ROOT, "scoring", "server.py"), join(baselineDir, "var", "azureml-server", "server.py"));

    const bench = await startBenchStack(ctx.log);
    const container = BlobServiceClient.fromConnectionString(azuriteConnection(bench.blobPort)).getContainerClient("bench");
    await container.createIfNotExists();
    ctx.log("image-build: uploading the model to Azurite");
    await container.getBlockBlobClient("model.bin").uploadFile(modelPath, { blockSize: 8 << 20, concurrency: 4 });
    await container.getBlockBlobClient("score.py").upload(DRIVER, DRIVER.length);
    const sas = (name: string) =>
      container
        .getBlockBlobClient(name)
        .generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 24 * 3600_000) });
    const account = `${bench.stack.apiBaseUrl}/${bench.stack.accountPath}`;
    const headers = { authorization: `Bearer ${bench.token}`, "content-type": "application/json" };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${account}/${path}?api-version=${API_VERSION}`, { method: "POST", headers, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    const model = await post("models", { name: "bench-model", mimeType: "application/octet-stream", url: await sas("model.bin") });
    const manifest = await post("manifests", {
      name: "bench",
      driverProgram: "score.py",
      assets: [{ id: "score.py", url: await sas("score.py") }],
      modelIds: [model.id],
      targetRuntime: { runtimeType: "Python", properties: {} },
    });
    return { bench, account, manifestId: manifest.id, baselineDir, outDir, modelBytes, builds: 0 };
  },
  async subject(f) {
    const headers = { authorization: `Bearer ${f.bench.token}`, "content-type": "application/json" };
    const hostPid = f.bench.stack.pids.functions!;
    const started = performance.now();
    const { peakRssMb } = await withPeakRss(hostPid, async () => {
      const res = await fetch(`${f.account}/images?api-version=${API_VERSION}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "bench", imageType: "Docker", computeResourceId: "local", manifestId: f.manifestId }),
      });
      if (res.status !== 202) throw new Error(`POST images: ${res.status} ${await res.text()}`);
      const location = res.headers.get("operation-location")!;
      for (;;) {
        const op = (await (await fetch(location, { headers })).json()) as { state: string; error?: unknown };
        if (op.state === "Succeeded") return;
        if (op.state === "Failed") throw new Error(`the build failed: ${JSON.stringify(op.error)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    f.builds++;
    return { ms: performance.now() - started, peakRssMb };
  },
  async baseline(f) {
    const started = performance.now();
    const out = join(f.outDir, "baseline.tar.gz");
    await new Promise<void>((resolve, reject) => {
      const child = spawn("sh", ["-c", `tar -c -C "${f.baselineDir}" . | gzip -1 > "${out}"`], { stdio: "ignore" });
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tar | gzip exited ${code}`))));
    });
    return { ms: performance.now() - started };
  },
  async teardown(f) {
    await f.bench.stack.stop();
    rmSync(f.bench.dataDir, { recursive: true, force: true });
  },
  targets: [
    { description: "subject ≤ 1.5× baseline", met: (r) => r.ratio <= 1.5 },
    { description: "host peak RSS < 300 MB", met: (r) => (r.subject.peakRssMb ?? Infinity) < 300 },
  ],
  notes: (f) => [
    `model: ${f.modelBytes} bytes of random data, registered from Azurite with a SAS URL; the subject's time runs from POST images to the operation's Succeeded, as a client sees it (fetch, py_compile, three layers, OCI layout, Dockerfile context).`,
    "baseline: the same files (model, driver, scoring server) from local disk through tar and gzip -1.",
    "peak RSS: the local Functions host process (where the builder runs), sampled every 25 ms.",
  ],
};
