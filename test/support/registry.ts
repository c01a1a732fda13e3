import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { requireTool } from "./tools.js";
import { waitForPort } from "../../devhost/ports.js";

export interface LocalRegistry {
  host: string;
  port: number;
  /** Where it keeps its configuration and storage: a registry started again on it has the same content. */
  dir: string;
  stop(): Promise<void>;
}

/** A real OCI registry (Debian's docker-registry) on a free loopback port, storage in a temporary directory. */
export async function startRegistry(again?: Pick<LocalRegistry, "port" | "dir">): Promise<LocalRegistry> {
  const binary = requireTool("docker-registry", "docker-registry");
  const port = again?.port ?? (await freePort());
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), "mm-registry-"));
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child = spawn(binary, ["serve", config], { stdio: "ignore" });
  await waitForPort(port);
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
