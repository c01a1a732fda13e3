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
