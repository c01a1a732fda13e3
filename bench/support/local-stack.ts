import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freeStackPorts, startStack, type RunningStack, type StackOptions } from "../../devhost/stack.js";
import { openLocalIssuer } from "../../devhost/local-issuer.js";
import { azuriteConnectionString } from "../../devhost/azurite-account.js";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface BenchStack {
  stack: RunningStack;
  /** What the stack was started with: the crash benchmark starts it again with the same. */
  options: StackOptions;
  dataDir: string;
  blobPort: number;
  /** The local runtime's control API. */
  runtimeUrl: string;
  token: string;
}

/** A local stack of its own for a benchmark: the same processes `npm start` runs, on free ports. */
export async function startBenchStack(log: (m: string) => void): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-bench-"));
  const ports = await freeStackPorts();
  const options: StackOptions = {
    appDir: PROJECT_ROOT,
    dataDir,
    ...ports,
    onOutput: (source, line) => {
      if (/error|warn|critical/i.test(line)) log(`[${source}] ${line}`);
    },
    onChildExit: (source, code, signal) => log(`[${source}] stopped unexpectedly (${signal ?? code})`),
  };
  const stack = await startStack(options);
  const token = await (await openLocalIssuer(dataDir)).mint();
  return { stack, options, dataDir, blobPort: ports.blobPort, runtimeUrl: `http://127.0.0.1:${ports.runtimePort}`, token };
}

export function azuriteConnection(blobPort: number): string {
  return azuriteConnectionString({ blob: blobPort });
}
