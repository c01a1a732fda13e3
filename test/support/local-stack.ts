import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freeStackPorts, portEnvironment, type StackPorts } from "../../devhost/stack.js";

export const PROJECT_ROOT = resolve(import.meta.dirname, "..", "..");

export interface LocalStack {
  apiBaseUrl: string;
  dataDir: string;
  ports: StackPorts;
  process: ChildProcess;
  output: () => string;
  /** Ctrl-C: SIGINT to the stack, resolves with its exit code. */
  stop(): Promise<number | null>;
  /** `kill -9` of every process of the stack at once. */
  kill9(): Promise<void>;
}

export { freeStackPorts };

/**
 * Starts the local stack as `npm start` does (dist/devhost/start.js), in its own process group
 * so that a test can kill all of it at once, with its own ports and data directory.
 */
export async function startLocalStack(
  options: { dataDir?: string; ports?: StackPorts; env?: NodeJS.ProcessEnv } = {},
): Promise<LocalStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "mm-stack-"));
  const ports = options.ports ?? (await freeStackPorts());
  let output = "";
  const child = fork(join(PROJECT_ROOT, "dist", "devhost", "start.js"), [], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...process.env,
      ...options.env,
      DATA_DIR: dataDir,
      ...portEnvironment(ports),
      HOST_LOG_LEVEL: "warning",
    },
  });
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const ready = await new Promise<{ apiBaseUrl: string }>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`The stack did not start within 30 s:\n${output}`)), 30_000);
    child.on("message", (m: unknown) => {
      if (m && typeof m === "object" && (m as { ready?: unknown }).ready) {
        clearTimeout(timer);
        resolvePromise(m as { apiBaseUrl: string });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The stack exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    apiBaseUrl: ready.apiBaseUrl,
    dataDir,
    ports,
    process: child,
    output: () => output,
    async stop() {
      child.kill("SIGINT");
      return exited;
    },
    async kill9() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
      // The children die with the group; give the kernel a moment to release their ports.
      await new Promise((r) => setTimeout(r, 200));
    },
  };
}

/** The Dockerfile context a stack's builder kept for an image (`images/contexts/<owner>/<imageId>`); undefined when there is none. */
export function contextDirOf(dataDir: string, imageId: string): string | undefined {
  const contexts = join(dataDir, "images", "contexts");
  if (!existsSync(contexts)) return undefined;
  return readdirSync(contexts)
    .map((group) => join(contexts, group, imageId))
    .find((dir) => existsSync(dir));
}
