import { execFileSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";

/** What the Function App runs: the built app, the scoring server it puts in images, and its production dependencies. */
const PACKAGE_CONTENT = ["dist", "scoring", "host.json", "package.json", "package-lock.json"];

/**
 * Assembles the Function App's deployment package in `<root>/<dir>` (azure.yaml's `dist`): the
 * same files the README's manual zip holds, with production dependencies installed from the
 * lockfile and no install scripts (the app is built already; `prepare` would need TypeScript).
 */
export function assembleAppPackage(root: string, dir: string): string {
  const target = join(root, dir);
  if (!existsSync(join(root, "dist", "functions", "index.js")))
    throw new Error("The app is not built: run `npm ci` (or `npm run build`) first.");
  rmSync(target, { recursive: true, force: true });
  for (const entry of PACKAGE_CONTENT) cpSync(join(root, entry), join(target, entry), { recursive: true });
  // The tests, benchmarks and these hooks are built into dist too; the Function App runs none of them.
  for (const unused of ["test", "bench", "infra"]) rmSync(join(target, "dist", unused), { recursive: true, force: true });
  execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: target,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return target;
}
