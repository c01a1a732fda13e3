/**
 * The pieces of @vercel/cosmosdb-server (pinned in package.json) that the durable emulator
 * builds on: its in-memory account model, its router and its request handlers. The package's
 * own server keeps its account out of reach, so we mount the same pieces in a server of ours
 * that journals every acknowledged write. Typed here once, narrowly, for what we call.
 */
import { createRequire } from "node:module";
import type { IncomingMessage } from "node:http";

const require = createRequire(import.meta.url);
/** Requires from the query engine as @vercel/cosmosdb-server itself resolves it, so patches reach the same module. */
export const requireFromEngine = createRequire(
  createRequire(require.resolve("@vercel/cosmosdb-server/lib/account/items.js")).resolve("@zeit/cosmosdb-query"),
);
const lib = (path: string): unknown => (require(`@vercel/cosmosdb-server/lib/${path}`) as { default: unknown }).default;

interface StoredItem {
  read(): Record<string, unknown> | undefined;
}
interface ItemSet<I extends StoredItem> {
  _data: Map<string, I>;
  create(data: Record<string, unknown>): Record<string, unknown>;
  upsert(data: Record<string, unknown>): Record<string, unknown>;
  replace(data: Record<string, unknown>, original: Record<string, unknown>): Record<string, unknown>;
  delete(idOrRid: string, partition: unknown): void;
}
/** A parsed query of the engine (@zeit/cosmosdb-query), cached by the emulator per query text. */
export interface EngineQuery {
  ast: unknown;
  exec(docs: Record<string, unknown>[], options: EngineQueryOptions): EngineResult;
  containsPartitionKeys(paths: string[]): boolean;
}
export interface EngineContinuation {
  token: string;
  range: { min: string; max: string };
}
export interface EngineQueryOptions {
  parameters?: { name: string; value: unknown }[];
  udf: unknown;
  maxItemCount: number | null;
  continuation: EngineContinuation | null;
  compositeIndexes: unknown;
}
export interface EngineResult {
  result: unknown[];
  continuation: EngineContinuation | null;
}

/** A container's documents: what the emulator stores them in, and the hooks we index from. */
export interface DocumentSet extends ItemSet<StoredItem> {
  _set(data: Record<string, unknown>): Record<string, unknown>;
  _item(keyPath: string, keyPathValue: string, partition: unknown): StoredItem;
  _getPartition(data: Record<string, unknown>): unknown;
  _getQuery(sql: string): EngineQuery;
  _userDefinedFunctions(): unknown;
}

export interface EmulatedCollection extends StoredItem {
  documents: DocumentSet;
  document(id: string, partition: unknown): StoredItem;
}
interface EmulatedDatabase extends StoredItem {
  collections: ItemSet<EmulatedCollection>;
  collection(id: string): EmulatedCollection;
}
export interface EmulatedAccount extends StoredItem {
  databases: ItemSet<EmulatedDatabase>;
  database(id: string): EmulatedDatabase;
}

export type RouteHandler = (
  account: EmulatedAccount,
  req: IncomingMessage,
  res: { statusCode: number; setHeader(name: string, value: string): void },
  params: Record<string, string>,
) => unknown;

/** A class of the emulator's account model, to hook its prototype. */
export const emulatorClass = (path: string): { prototype: object } => lib(path) as { prototype: object };

export const Account = lib("account/index.js") as new (host: string, port: number) => EmulatedAccount;
export const route = lib("routes.js") as (req: IncomingMessage) => [Record<string, string>, RouteHandler] | undefined;
export const parsePartitionKey = (
  require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header.js") as {
    parsePartitionKey(header: unknown, fallback: unknown): unknown;
  }
).parsePartitionKey;

/** The handler of `POST …/docs` queries, which the durable server answers itself (document-queries.ts). */
export const queryDocumentsHandler = lib("handler/query-documents.js");

/** The engine's continuation tokens (`+RID:…#RT:…#TRC:…#RTD:…`). */
export const continuationTokens = requireFromEngine("./continuation-token") as {
  encode(t: Record<string, unknown>): string;
  decode(token: string): { RID?: string; RT?: number; SRC?: number; TRC?: number; RTD?: unknown[] };
};

/** The engine's aggregate functions (COUNT, SUM, …), by upper-case name. */
export const engineAggregates = new Set(Object.keys(requireFromEngine("./aggregate-functions") as object).map((n) => n.toUpperCase()));

/** The engine's syntax error, a 400 for the client. */
export const QuerySyntaxError = (requireFromEngine("@zeit/cosmosdb-query") as { SyntaxError: new (...args: unknown[]) => Error })
  .SyntaxError;

/** The request handlers that change state, by what they change. */
export const writeHandlers = {
  createDatabase: lib("handler/create-database.js"),
  deleteDatabase: lib("handler/delete-database.js"),
  createCollection: lib("handler/create-collection.js"),
  replaceCollection: lib("handler/replace-collection.js"),
  deleteCollection: lib("handler/delete-collection.js"),
  createDocument: lib("handler/create-document.js"),
  upsertDocument: lib("handler/upsert-document.js"),
  replaceDocument: lib("handler/replace-document.js"),
  patchDocument: lib("handler/patch-document.js"),
  deleteDocument: lib("handler/delete-document.js"),
  batchDocuments: lib("handler/batch-documents.js"),
  createUserDefinedFunction: lib("handler/create-user-defined-function.js"),
  upsertUserDefinedFunction: lib("handler/upsert-user-defined-function.js"),
  replaceUserDefinedFunction: lib("handler/replace-user-defined-function.js"),
  deleteUserDefinedFunction: lib("handler/delete-user-defined-function.js"),
} as const;
