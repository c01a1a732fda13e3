import { execFileSync } from "node:child_process";

/**
 * A system tool a test needs. Missing, the test fails saying what to install (CI installs it in
 * .ci/run, so it never goes missing there); it is never skipped.
 */
export function requireTool(command: string, debianPackage: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`This test needs ${command}, which is not installed. Install it with: apt-get install -y ${debianPackage}`);
  }
}

/** Python modules a test needs from an interpreter: missing, the test fails saying what to install. */
export function requirePythonModules(python: string, modules: string[], debianPackages: string): void {
  requireTool(python, "python3");
  try {
    execFileSync(python, ["-c", `import ${modules.join(", ")}`], { stdio: "ignore" });
  } catch {
    throw new Error(
      `This test needs the Python modules ${modules.join(", ")} for ${python}. Install them with: apt-get install -y ${debianPackages}`,
    );
  }
}
