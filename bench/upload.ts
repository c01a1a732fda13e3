import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { writeRandomFile } from "./support/random-file.js";
import { withPeakRss, type Benchmark, type BenchmarkContext } from "./harness.js";
import { PROJECT_ROOT, azuriteConnection, startBenchStack, type BenchStack } from "./support/local-stack.js";

const GB = 2 * 1024 ** 3;

interface Fixture {
  bench: BenchStack;
  file: string;
  bytes: number;
  configDir: string;
  blobs: BlobServiceClient;
}

/** Drops what a round uploaded, so that Azurite's disk holds one copy at a time. */
async function emptyContainers(blobs: BlobServiceClient): Promise<void> {
  for (const name of ["uploads", "bench"]) {
    const container = blobs.getContainerClient(name);
    if (!(await container.exists())) continue;
    for await (const blob of container.listBlobsFlat()) await container.deleteBlob(blob.name);
  }
}

/**
 * `bench/upload`: a 2 GB file through `mm model register` (a process of its own: upload to the
 * stack's Azurite in parallel blocks, then the POST), against a plain `@azure/storage-blob`
 * `uploadFile` of the same file with the SDK's defaults, in this process.
 * Targets (CLI issue): at least 90% of the baseline's throughput; peak RSS of mm under 200 MB.
 */
export const upload: Benchmark<Fixture> = {
  name: "upload",
  title: "upload and register a 2 GB model",
  subjectLabel: "mm model register -m <2 GB file>",
  baselineLabel: "BlockBlobClient.uploadFile (SDK defaults)",
  rounds: 3,
  warmUpRounds: 0,
  async setup(ctx: BenchmarkContext) {
    const bytes = ctx.smoke ? 1 << 20 : GB;
    const file = join(ctx.workDir, "model.bin");
    ctx.log(`upload: writing a ${bytes} byte file`);
    await writeRandomFile(file, bytes);
    const configDir = join(ctx.workDir, "mm-config");
    mkdirSync(configDir, { recursive: true });
    const bench = await startBenchStack(ctx.log);
    return { bench, file, bytes, configDir, blobs: BlobServiceClient.fromConnectionString(azuriteConnection(bench.blobPort)) };
  },
  async subject(f) {
    await emptyContainers(f.blobs);
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "dist", "cli", "main.js"), "model", "register", "-m", f.file, "-n", "bench-upload"],
      {
        env: { ...process.env, DATA_DIR: f.bench.dataDir, MM_CONFIG_DIR: f.configDir },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const { result: code, peakRssMb } = await withPeakRss(child.pid!, async () => (await once(child, "exit"))[0] as number | null);
    if (code !== 0) throw new Error(`mm model register exited ${code}: ${stderr}`);
    const ms = performance.now() - started;
    return { ms, peakRssMb, metrics: { "MB/s": f.bytes / 1e6 / (ms / 1000) } };
  },
  async baseline(f) {
    await emptyContainers(f.blobs);
    const container = f.blobs.getContainerClient("bench");
    await container.createIfNotExists();
    const started = performance.now();
    await container.getBlockBlobClient("model.bin").uploadFile(f.file);
    const ms = performance.now() - started;
    return { ms, metrics: { "MB/s": f.bytes / 1e6 / (ms / 1000) } };
  },
  async teardown(f) {
    await f.bench.stack.stop();
    rmSync(f.bench.dataDir, { recursive: true, force: true });
    rmSync(f.file, { force: true });
  },
  targets: [
    { description: "throughput ≥ 90% of the baseline (subject ≤ 1.11× its time)", met: (r) => r.ratio <= 1 / 0.9 },
    { description: "mm peak RSS < 200 MB", met: (r) => (r.subject.peakRssMb ?? Infinity) < 200 },
  ],
  notes: (f) => [
    `file: ${f.bytes} bytes of random data, uploaded to the stack's Azurite; the subject's time includes starting mm, signing in with the local issuer and the POST models that registers the upload.`,
    "mm uploads 8 MiB blocks, 8 at a time, from the file (never the whole file in memory); the baseline uses uploadFile's defaults.",
    "peak RSS: the mm process, sampled every 25 ms.",
  ],
};
