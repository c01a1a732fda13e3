import { isDeepStrictEqual } from "node:util";

/**
 * Server-side apply's field management, for the FAKE Kubernetes API server: who owns which field
 * of an object (`metadata.managedFields`, in the API's FieldsV1 format), what an apply by one
 * field manager does to fields another manager owns (a 409 conflict, or with `force` a transfer),
 * and what happens to a field a manager stops applying (removed, unless someone else owns it).
 * See https://kubernetes.io/docs/reference/using-api/server-side-apply/.
 *
 * One simplification, said here: every list is atomic (the real server merges lists such as
 * `containers` by key). Our objects never share a list between managers, so no test depends on it.
 */

type Json = unknown;
type Path = string[];

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface FieldConflict {
  manager: string;
  path: string;
}

/** Fields that are the server's, not any manager's. */
const SERVER_FIELDS = new Set([
  "apiVersion",
  "kind",
  "status",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "metadata.resourceVersion",
  "metadata.generation",
  "metadata.managedFields",
  "metadata.creationTimestamp",
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const keyOf = (path: Path): string => path.join("\u0000");
const pathOf = (key: string): Path => key.split("\u0000");
/** `.spec.replicas`, as the API server names a field in a conflict. */
export const dotted = (key: string): string => `.${pathOf(key).join(".")}`;

/** The leaves of an object that managers can own (lists and empty objects are leaves). */
export function leavesOf(object: Json, prefix: Path = []): Map<string, Json> {
  const leaves = new Map<string, Json>();
  if (!isPlainObject(object)) return leaves;
  for (const [k, v] of Object.entries(object)) {
    const path = [...prefix, k];
    if (SERVER_FIELDS.has(path.join("."))) continue;
    if (isPlainObject(v) && Object.keys(v).length > 0) for (const [p, leaf] of leavesOf(v, path)) leaves.set(p, leaf);
    else leaves.set(keyOf(path), v);
  }
  return leaves;
}

/** FieldsV1: `{"f:spec":{"f:replicas":{}}}`. */
export function fieldsV1Of(keys: Iterable<string>): Record<string, unknown> {
  const root: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    let node: Record<string, unknown> = root;
    for (const part of pathOf(key)) node = (node[`f:${part}`] ??= {}) as Record<string, unknown>;
  }
  return root;
}

export function keysOfFieldsV1(fields: Record<string, unknown>, prefix: Path = []): string[] {
  const entries = Object.entries(fields).filter(([k]) => k.startsWith("f:"));
  if (entries.length === 0) return prefix.length ? [keyOf(prefix)] : [];
  return entries.flatMap(([k, v]) => keysOfFieldsV1(v as Record<string, unknown>, [...prefix, k.slice(2)]));
}

/** Whether the fields at two paths are the same field or one holds the other. */
function overlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}\u0000`) || b.startsWith(`${a}\u0000`);
}

function valueAt(object: Json, key: string): Json {
  let node: Json = object;
  for (const part of pathOf(key)) node = isPlainObject(node) ? node[part] : undefined;
  return node;
}

function setAt(object: Record<string, unknown>, key: string, value: Json): void {
  const path = pathOf(key);
  let node = object;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1)!] = structuredClone(value);
}

/** Removes the field, and the objects it leaves empty. */
function removeAt(object: Record<string, unknown>, key: string): void {
  const path = pathOf(key);
  const parents: [Record<string, unknown>, string][] = [];
  let node: Json = object;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(node)) return;
    parents.push([node, part]);
    node = node[part];
  }
  if (!isPlainObject(node)) return;
  delete node[path.at(-1)!];
  for (const [parent, part] of parents.reverse()) {
    const child = parent[part];
    if (isPlainObject(child) && Object.keys(child).length === 0) delete parent[part];
    else break;
  }
}

function ownership(entries: ManagedFieldsEntry[] | undefined): Map<string, { entry: ManagedFieldsEntry; keys: Set<string> }> {
  return new Map((entries ?? []).map((e) => [`${e.manager}\u0000${e.operation}`, { entry: e, keys: new Set(keysOfFieldsV1(e.fieldsV1)) }]));
}

function entriesOf(owners: ReturnType<typeof ownership>): ManagedFieldsEntry[] {
  return [...owners.values()].filter((o) => o.keys.size > 0).map((o) => ({ ...o.entry, fieldsV1: fieldsV1Of(o.keys) }));
}

/**
 * An apply of `applied` by `manager` to `existing`: the object it makes and who owns what after,
 * or the conflicts that refuse it (when not forced).
 */
export function applyFields(
  existing: Record<string, unknown> | undefined,
  applied: Record<string, unknown>,
  manager: string,
  force: boolean,
  apiVersion: string,
): { object: Record<string, unknown>; managedFields: ManagedFieldsEntry[] } | { conflicts: FieldConflict[] } {
  const metadata = (existing?.metadata ?? {}) as { managedFields?: ManagedFieldsEntry[] };
  const owners = ownership(metadata.managedFields);
  const wanted = leavesOf(applied);
  const conflicts: FieldConflict[] = [];
  for (const [id, owner] of owners) {
    if (owner.entry.manager === manager && owner.entry.operation === "Apply") continue;
    for (const key of [...owner.keys]) {
      const clash = [...wanted.keys()].find((w) => overlap(w, key) && !isDeepStrictEqual(valueAt(applied, w), valueAt(existing, w)));
      if (!clash) continue;
      if (force) owners.get(id)!.keys.delete(key);
      else conflicts.push({ manager: owner.entry.manager, path: key });
    }
  }
  if (conflicts.length) return { conflicts };

  const object = structuredClone(existing ?? {}) as Record<string, unknown>;
  const mine = owners.get(`${manager}\u0000Apply`);
  const ownedByOthers = (key: string) => [...owners.values()].some((o) => o !== mine && [...o.keys].some((k) => overlap(k, key)));
  for (const key of mine?.keys ?? []) if (!wanted.has(key) && !ownedByOthers(key)) removeAt(object, key);
  for (const [key, value] of wanted) setAt(object, key, value);
  owners.set(`${manager}\u0000Apply`, {
    entry: { manager, operation: "Apply", apiVersion, time: new Date().toISOString(), fieldsType: "FieldsV1", fieldsV1: {} },
    keys: new Set(wanted.keys()),
  });
  return { object, managedFields: entriesOf(owners) };
}

/**
 * A controller's update (an `Update` operation, as the HPA's writes to a Deployment's scale): it
 * sets the fields and takes them from whoever owned them, with no conflict.
 */
export function updateFields(
  object: Record<string, unknown> & { metadata: { managedFields?: ManagedFieldsEntry[] } },
  manager: string,
  changes: Record<string, Json>,
  apiVersion: string,
  subresource?: string,
): void {
  const owners = ownership(object.metadata.managedFields);
  const changed = Object.entries(changes).filter(([dot, v]) => !isDeepStrictEqual(valueAt(object, keyOf(dot.split("."))), v));
  if (changed.length === 0) return;
  const id = `${manager}\u0000Update`;
  const updater = owners.get(id) ?? {
    entry: {
      manager,
      operation: "Update" as const,
      apiVersion,
      time: "",
      fieldsType: "FieldsV1" as const,
      fieldsV1: {},
      ...(subresource ? { subresource } : {}),
    },
    keys: new Set<string>(),
  };
  for (const [dot, value] of changed) {
    const key = keyOf(dot.split("."));
    setAt(object, key, value);
    for (const o of owners.values()) for (const k of [...o.keys]) if (overlap(k, key)) o.keys.delete(k);
    updater.keys.add(key);
  }
  updater.entry.time = new Date().toISOString();
  owners.set(id, updater);
  object.metadata.managedFields = entriesOf(owners);
}
