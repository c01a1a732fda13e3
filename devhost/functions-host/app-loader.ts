import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Loads an app as the Node worker does: every file matched by package.json `main` (a glob is
 * allowed), in a stable order. Registrations happen as a side effect of loading.
 */
export async function loadApp(appDir: string): Promise<string[]> {
  const pkgPath = join(appDir, "package.json");
  if (!existsSync(pkgPath)) throw new Error(`${appDir} has no package.json: the host loads the app from its "main".`);
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { main?: unknown };
  if (typeof pkg.main !== "string" || !pkg.main) throw new Error(`${pkgPath} has no "main" naming the app's entry point.`);
  const files = resolveMain(appDir, pkg.main);
  if (files.length === 0)
    throw new Error(`package.json "main" (${pkg.main}) matches no file under ${appDir}. Did you run "npm run build"?`);
  for (const file of files) await import(pathToFileURL(file).href);
  return files;
}

function resolveMain(appDir: string, main: string): string[] {
  if (!/[*?{[]/.test(main)) {
    const file = resolve(appDir, main);
    return existsSync(file) ? [file] : [];
  }
  const matchesGlob = (path as unknown as { matchesGlob?: (p: string, g: string) => boolean }).matchesGlob;
  if (!matchesGlob) throw new Error(`package.json "main" is a glob (${main}); this Node.js cannot match globs.`);
  const pattern = main.replace(/^\.\//, "");
  return walk(appDir)
    .map((f) => relative(appDir, f).split(sep).join("/"))
    .filter((f) => !f.startsWith("node_modules/") && matchesGlob(f, pattern))
    .sort()
    .map((f) => resolve(appDir, f));
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}
