import { open, readdir } from "node:fs/promises";
import { join, posix, relative, sep } from "node:path";
import { BuildFailure } from "./build-failure.js";

/** The schema file that the scoring server reads by default, at the app's root. */
export const DEFAULT_SCHEMA_FILE = "service_schema.json";
/** Bounds of the search: schema files are small and near the top of a project. */
const MAX_SCHEMA_BYTES = 16 * 1024 * 1024;
const MAX_DEPTH = 4;
const MAX_CANDIDATES = 200;

const DATA_TYPES = ["STANDARD", "NUMPY", "SPARK", "PANDAS"];

/** A service schema (the 2017 format) found in the app: where it is and what it describes. */
interface ServiceSchemaFile {
  /** Relative to the app root, with `/`. */
  path: string;
  inputs: { name: string; type: string }[];
  /** Other schema files the app holds, which were not chosen. */
  others: string[];
}

/**
 * Finds the service's schema among the app's files. The 2017 CLI sent `-s schema.json` as just
 * another dependency (the folder it was in, packed), so the schema is whatever JSON file has the
 * shape `generate_schema` writes: `{"input": {arg: {internal, swagger, type}}, "output": …}`.
 * `service_schema.json` at the root wins; otherwise the shallowest, then the first by name.
 * Only the JSON is read: the pickled `internal` parts are the service's own code, and only the
 * service's process ever unpickles them.
 */
export async function findServiceSchema(appDir: string): Promise<ServiceSchemaFile | undefined> {
  const found: { path: string; inputs: ServiceSchemaFile["inputs"] }[] = [];
  for (const path of await jsonFiles(appDir)) {
    const document = await readJson(join(appDir, path));
    const problem = document === undefined ? "it is not JSON (or is over 16 MiB)" : schemaProblem(document);
    if (path === DEFAULT_SCHEMA_FILE && problem) {
      throw new BuildFailure("BadSchema", `${DEFAULT_SCHEMA_FILE} is not a service schema made by generate_schema: ${problem}.`);
    }
    if (!problem) found.push({ path, inputs: inputsOf(document as SchemaDocument) });
  }
  if (found.length === 0) return undefined;
  found.sort((a, b) => rank(a.path) - rank(b.path) || (a.path < b.path ? -1 : 1));
  const [chosen, ...others] = found;
  return { ...chosen!, others: others.map((o) => o.path) };
}

type SchemaDocument = { input?: Record<string, { type: number }>; output?: Record<string, { type: number }> };

function rank(path: string): number {
  return path === DEFAULT_SCHEMA_FILE ? -1 : path.split("/").length;
}

/** Why a JSON document is not a 2017 service schema, or undefined when it is one. */
function schemaProblem(document: unknown): string | undefined {
  if (!document || typeof document !== "object" || Array.isArray(document)) return "it is not a JSON object";
  const parts = ["input", "output"].filter((p) => p in document);
  if (parts.length === 0) return 'it has neither "input" nor "output"';
  for (const part of parts) {
    const entries = (document as Record<string, unknown>)[part];
    if (!entries || typeof entries !== "object" || Array.isArray(entries) || Object.keys(entries).length === 0)
      return `"${part}" does not map argument names to schemas`;
    for (const [name, entry] of Object.entries(entries)) {
      const e = entry as Record<string, unknown> | null;
      if (!e || typeof e !== "object") return `${part} "${name}" is not an object`;
      if (typeof e.type !== "number" || !Number.isInteger(e.type) || e.type < 0 || e.type > 3)
        return `${part} "${name}" has no "type" of 0 to 3`;
      if (typeof e.internal !== "string") return `${part} "${name}" has no "internal" schema`;
      if (!e.swagger || typeof e.swagger !== "object") return `${part} "${name}" has no "swagger" schema`;
    }
  }
  return undefined;
}

function inputsOf(document: SchemaDocument): ServiceSchemaFile["inputs"] {
  return Object.entries(document.input ?? {}).map(([name, entry]) => ({ name, type: DATA_TYPES[entry.type]! }));
}

async function jsonFiles(appDir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= MAX_CANDIDATES) return;
      const full = join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH && entry.name !== "__pycache__") await walk(full, depth + 1);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith(".json")) out.push(relative(appDir, full).split(sep).join(posix.sep));
    }
  }
  await walk(appDir, 1);
  return out;
}

async function readJson(path: string): Promise<unknown> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size > MAX_SCHEMA_BYTES) return undefined;
    return JSON.parse(await file.readFile("utf8"));
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
