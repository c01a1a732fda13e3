import { spawn } from "node:child_process";
import { BuildFailure } from "./build-failure.js";

/**
 * Checks that the driver compiles (`python -m py_compile`), so that a syntax error fails the
 * build naming the file and line rather than the service later. Bytecode goes to a scratch
 * prefix, never beside the driver, so nothing of the check ends up in the image.
 */
export async function checkDriverCompiles(python: string, driverPath: string, driverName: string, scratchDir: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(python, ["-m", "py_compile", driverPath], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: scratchDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error(`The Python interpreter "${python}" was not found; set PYTHON to the interpreter to check drivers with.`)
          : err,
      ),
    );
    child.once("close", (code) => resolve({ code, output }));
  });
  if (code === 0) return;
  const line = /line (\d+)/.exec(output)?.[1];
  const message = output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /Error|error:/.test(l))
    .pop();
  throw new BuildFailure(
    "DriverDoesNotCompile",
    `The driver ${driverName} does not compile${line ? ` (line ${line})` : ""}: ${message ?? output.trim().split("\n").pop() ?? "py_compile failed"}`.replace(
      driverPath,
      driverName,
    ),
  );
}
