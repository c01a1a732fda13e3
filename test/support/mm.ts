import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./local-stack.js";
import type { ApiBody } from "./api-client.js";

interface MmResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON, read as the shape the test expects (a resource view, usually). */
  json<T = ApiBody>(): T;
}

/**
 * Runs the `mm` CLI as a user would: a process of its own, against the stack whose data
 * directory it is given (where `mm` finds the stack's endpoints and local issuer), with a config
 * directory of its own.
 */
export function mmRunner(dataDir: string, env: NodeJS.ProcessEnv = {}, cli = join(PROJECT_ROOT, "dist", "cli", "main.js")) {
  const configDir = mkdtempSync(join(tmpdir(), "mm-config-"));
  const run = (
    args: string[],
    options: { cwd?: string; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
  ): Promise<MmResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { ...process.env, DATA_DIR: dataDir, MM_CONFIG_DIR: configDir, MM_POLL_MS: "200", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString("utf8");
        options.onStderr?.(stderr, child);
      });
      child.once("error", reject);
      child.once("close", (code) =>
        resolve({
          code,
          stdout,
          stderr,
          json: () => {
            try {
              return JSON.parse(stdout);
            } catch {
              throw new Error(`mm ${args.join(" ")} printed no JSON (exit ${code}).\nstdout: ${stdout}\nstderr: ${stderr}`);
            }
          },
        }),
      );
    });
  return { run, configDir };
}
