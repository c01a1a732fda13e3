import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { freePort } from "./ports.js";
import { waitForPort } from "../../devhost/ports.js";
import { azuriteConnectionString } from "../../devhost/azurite-account.js";

const require = createRequire(import.meta.url);

export interface AzuriteService {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

/** One real Azurite service (blob or queue) on a free loopback port, data in a temporary directory. */
async function startAzurite(service: "blob" | "queue"): Promise<AzuriteService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `mm-azurite-${service}-`));
  const main = join(require.resolve("azurite/package.json"), "..", "dist", "src", service, "main.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      "--silent",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--loose",
      "--location",
      dir,
      `--${service}Host`,
      "127.0.0.1",
      `--${service}Port`,
      String(port),
    ],
    { stdio: "ignore" },
  );
  await waitForPort(port);
  return {
    port,
    connectionString: azuriteConnectionString({ [service]: port }),
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export const startAzuriteQueue = (): Promise<AzuriteService> => startAzurite("queue");
export const startAzuriteBlob = (): Promise<AzuriteService> => startAzurite("blob");
