import type { TestProject } from "vitest/node";
import { randomUUID } from "node:crypto";
import { processTree } from "../../devhost/process-tree.js";
import { startLocalStack, type LocalStack } from "./local-stack.js";

/**
 * Marks every process this test run starts (workers inherit it, and the stacks, runtimes and
 * replicas they start): what a worker that died (out of memory, say) left running is found by it
 * at the end and stopped, and nothing of another run is touched.
 */
const RUN_MARK = "MM_TEST_RUN";
const runId = randomUUID();
process.env[RUN_MARK] = runId;

declare module "vitest" {
  export interface ProvidedContext {
    stack: { apiBaseUrl: string; dataDir: string; cosmosEndpoint: string };
  }
}

let stack: LocalStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  stack = await startLocalStack();
  project.provide("stack", {
    apiBaseUrl: stack.apiBaseUrl,
    dataDir: stack.dataDir,
    cosmosEndpoint: `http://127.0.0.1:${stack.ports.cosmosPort}/`,
  });
}

export async function teardown(): Promise<void> {
  await stack?.stop();
  const left = processesOfThisRun();
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  if (left.length) console.warn(`Stopped ${left.length} processes the tests left running: ${left.join(", ")}`);
}

/** The processes marked with this run, and their descendants (replicas get an environment of their own, without the mark). */
function processesOfThisRun(): number[] {
  const mark = `${RUN_MARK}=${runId}\0`;
  const { roots, descendants } = processTree((p) => p.pid !== process.pid && p.environ().includes(mark));
  return [...roots, ...descendants];
}
