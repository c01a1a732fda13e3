import { engineAggregates } from "./emulator-internals.js";

/**
 * What the emulator's query engine (@zeit/cosmosdb-query) means by ORDER BY, so that an index
 * can hand it documents already in its order: how it compares values, and which queries order
 * by one document path and nothing else.
 */

/** Cosmos DB's order across types (undefined, null, boolean, number, string, array, object). */
const TYPE_RANK: Record<string, number> = { undefined: 0, null: 1, boolean: 2, number: 3, string: 4, array: 5, object: 6 };

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Compares two values as the engine's sort does: by type rank, then by value; objects tie. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return (TYPE_RANK[ta] ?? 7) - (TYPE_RANK[tb] ?? 7) < 0 ? -1 : 1;
  if (ta === "object") return 0;
  return (a as string) < (b as string) ? -1 : 1;
}

/** The value at a path of a document, or undefined where the path stops (the engine's getValue). */
export function valueAt(doc: unknown, path: readonly string[]): unknown {
  let value: unknown = doc;
  for (const key of path) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined) return undefined;
  }
  return value;
}

export interface SingleOrder {
  /** The document path ordered by, without the collection alias (`c.a.b` → `["a", "b"]`). */
  path: string[];
  descending: boolean;
}

type AstNode = { type?: string; [key: string]: unknown };

/** The clauses a query may have for its rows to come straight from an ordered index. */
const INDEXABLE_CLAUSES = new Set(["type", "top", "select", "from", "where", "orderBy"]);

/**
 * The single path a query orders its documents by, when its rows are exactly its matching
 * documents in that order: one FROM source, no JOIN, no TOP, no aggregate. Anything else
 * (several ORDER BY terms, computed sort keys, clauses this version does not know) is undefined,
 * and the query runs over the whole partition as before.
 */
export function singleOrderOf(ast: unknown): SingleOrder | undefined {
  const body = (ast as AstNode | undefined)?.body as AstNode | undefined;
  if (body?.type !== "select_query") return undefined;
  for (const [clause, value] of Object.entries(body)) if (!INDEXABLE_CLAUSES.has(clause) && value != null) return undefined;
  if (body.top != null) return undefined;
  const from = body.from as AstNode | undefined;
  const source = from?.source as AstNode | undefined;
  const joins = from?.joins as unknown[] | undefined;
  if (!source || (joins && joins.length > 0)) return undefined;
  const collection = source.expression as AstNode | undefined;
  if (collection?.type !== "collection_expression") return undefined;
  const root = collection.expression as AstNode | undefined;
  if (root?.type !== "identifier") return undefined;
  const alias = ((source.alias as AstNode | null)?.name ?? root.name) as string;
  if (containsAggregate(body.select)) return undefined;
  const terms = ((body.orderBy as AstNode | null)?.expressions ?? []) as AstNode[];
  if (terms.length !== 1) return undefined;
  const path = memberPath(terms[0]!.expression as AstNode, alias);
  if (!path || path.length === 0) return undefined;
  return { path, descending: String(terms[0]!.order ?? "ASC").toUpperCase() === "DESC" };
}

/** `c.a["b"]` → `["a", "b"]` when rooted at the alias; undefined for anything computed. */
function memberPath(node: AstNode | undefined, alias: string): string[] | undefined {
  if (!node) return undefined;
  if (node.type === "identifier") return node.name === alias ? [] : undefined;
  if (node.type !== "scalar_member_expression") return undefined;
  const property = node.property as AstNode;
  let key: string | undefined;
  if (!node.computed && property.type === "identifier") key = String(property.name);
  else if (node.computed && property.type === "string_constant") key = String(property.value);
  if (key === undefined) return undefined;
  const parent = memberPath(node.object as AstNode, alias);
  return parent ? [...parent, key] : undefined;
}

function containsAggregate(node: unknown): boolean {
  if (!node || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(containsAggregate);
  const n = node as AstNode;
  if (n.type === "scalar_function_expression" && engineAggregates.has(String((n.name as AstNode | undefined)?.name ?? "").toUpperCase()))
    return true;
  return Object.values(n).some(containsAggregate);
}
