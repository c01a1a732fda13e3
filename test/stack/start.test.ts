import { describe, expect, it } from "vitest";
import { execFileSync, fork, spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { processTree } from "../../devhost/process-tree.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, modelBody } from "../support/api-client.js";
import { freeStackPorts, PROJECT_ROOT, startLocalStack } from "../support/local-stack.js";
import { isPortFree } from "../../devhost/ports.js";
import { portEnvironment } from "../../devhost/stack.js";
import { requireTool } from "../support/tools.js";

/** Processes whose command line mentions the data directory: the stack's children. */
function processesUsing(dataDir: string): number[] {
  return processTree(({ cmdline }) => cmdline.includes(dataDir)).roots;
}

function npmToken(dataDir: string): string {
  return execFileSync("npm", ["run", "--silent", "token"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: "utf8",
  }).trim();
}

describe("npm start", () => {
  it("is ready in under 10 s, says what runs and how to get a token, and keeps data across restarts", async () => {
    const started = Date.now();
    const first = await startLocalStack();
    const readyMs = Date.now() - started;
    expect(readyMs).toBeLessThan(10_000);
    expect(first.output()).toContain(`API          http://127.0.0.1:${first.ports.port}/api`);
    expect(first.output()).toContain("npm run --silent token");
    expect(first.output()).toContain(DEFAULT_ACCOUNT);

    const token = npmToken(first.dataDir);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const api = new ApiClient(first.apiBaseUrl, token);
    const model = await api.post(`${DEFAULT_ACCOUNT}/models`, modelBody("kept"));
    expect(model.status).toBe(200);
    expect(await first.stop()).toBe(0);

    const second = await startLocalStack({ dataDir: first.dataDir, ports: first.ports });
    try {
      const again = await new ApiClient(second.apiBaseUrl, token).get(`${DEFAULT_ACCOUNT}/models/${model.body.id}`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(model.body);
    } finally {
      await second.stop();
    }
  });

  it("stops every child process on Ctrl-C and frees its ports", async () => {
    const stack = await startLocalStack();
    expect(processesUsing(stack.dataDir).length).toBeGreaterThanOrEqual(3);
    expect(await stack.stop()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(processesUsing(stack.dataDir)).toEqual([]);
    for (const port of Object.values(stack.ports)) expect(await isPortFree(port), String(port)).toBe(true);
  });

  it("stops quietly on Ctrl-C at a terminal, which every process of the stack receives at once", async () => {
    requireTool("script", "bsdutils");
    const dataDir = mkdtempSync(join(tmpdir(), "mm-tty-"));
    const ports = await freeStackPorts();
    // script(1) runs `npm start`, as the README says, on a pseudo-terminal; a ^C written to it is
    // the terminal's Ctrl-C. `exec`: script's own shell ($SHELL, or dash when unset, which dies of
    // the ^C at once) must not stand between the terminal and npm, as a user's shell does not.
    const terminal = spawn("script", ["-qec", "exec npm start", "/dev/null"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATA_DIR: dataDir, ...portEnvironment(ports) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    terminal.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    terminal.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const deadline = Date.now() + 30_000;
    while (!output.includes("Press Ctrl-C to stop.") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain("Press Ctrl-C to stop.");
    const exited = new Promise<number | null>((r) => terminal.once("exit", r));
    terminal.stdin.write("\x03");
    expect(await exited).toBe(0);
    const after = output.slice(output.indexOf("Press Ctrl-C to stop."));
    expect(after).toContain("Stopping…");
    expect(after).not.toMatch(/error|Cannot close server/i);
    expect(processesUsing(dataDir)).toEqual([]);
  });

  it("explains a port already taken, without a stack trace", async () => {
    const ports = await freeStackPorts();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports.port, "127.0.0.1", r));
    try {
      const child = fork(join(PROJECT_ROOT, "dist", "devhost", "start.js"), [], {
        env: {
          ...process.env,
          ...portEnvironment(ports),
          DATA_DIR: mkdtempSync(join(tmpdir(), "mm-port-")),
        },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      });
      let output = "";
      child.stdout?.on("data", (c) => (output += c));
      child.stderr?.on("data", (c) => (output += c));
      const code = await new Promise<number | null>((r) => child.once("exit", r));
      expect(code).toBe(1);
      expect(output).toContain(`Port ${ports.port} on 127.0.0.1 is already in use (set PORT to use another one`);
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});
