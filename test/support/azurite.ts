import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { freePort } from "./ports.js";
import { waitForPort } from "../../devhost/ports.js";

const require = createRequire(import.meta.url);

/** Azurite's well-known development account key: a public constant of the emulator. */
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteQueue {
  connectionString: string;
  stop(): Promise<void>;
}

/** A real Azurite queue service on a free loopback port, data in a temporary directory. */
export async function startAzuriteQueue(): Promise<AzuriteQueue> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mm-azurite-"));
  const main = join(require.resolve("azurite/package.json"), "..", "dist", "src", "queue", "main.js");
  const child: ChildProcess = spawn(process.execPath, [main, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", dir, "--queueHost", "127.0.0.1", "--queuePort", String(port)], { stdio: "ignore" });
  await waitForPort(port);
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_KEY};QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface AzuriteBlob {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

/** A real Azurite blob service on a free loopback port, data in a temporary directory. */
export async function startAzuriteBlob(): Promise<AzuriteBlob> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mm-azurite-blob-"));
  const main = join(require.resolve("azurite/package.json"), "..", "dist", "src", "blob", "main.js");
  const child: ChildProcess = spawn(process.execPath, [main, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", dir, "--blobHost", "127.0.0.1", "--blobPort", String(port)], { stdio: "ignore" });
  await waitForPort(port);
  return {
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
