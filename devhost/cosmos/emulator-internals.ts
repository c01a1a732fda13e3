/**
 * The pieces of @vercel/cosmosdb-server (pinned in package.json) that the durable emulator
 * builds on: its in-memory account model, its router and its request handlers. The package's
 * own server keeps its account out of reach, so we mount the same pieces in a server of ours
 * that journals every acknowledged write. Typed here once, narrowly, for what we call.
 */
import { createRequire } from "node:module";
import type { IncomingMessage } from "node:http";

const require = createRequire(import.meta.url);
const lib = (path: string): unknown => (require(`@vercel/cosmosdb-server/lib/${path}`) as { default: unknown }).default;

export interface StoredItem {
  read(): Record<string, unknown> | undefined;
}
export interface ItemSet<I extends StoredItem> {
  _data: Map<string, I>;
  create(data: Record<string, unknown>): Record<string, unknown>;
  upsert(data: Record<string, unknown>): Record<string, unknown>;
  replace(data: Record<string, unknown>, original: Record<string, unknown>): Record<string, unknown>;
  delete(idOrRid: string, partition: unknown): void;
}
export interface EmulatedCollection extends StoredItem {
  documents: ItemSet<StoredItem>;
  document(id: string, partition: unknown): StoredItem;
}
export interface EmulatedDatabase extends StoredItem {
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

export const Account = lib("account/index.js") as new (host: string, port: number) => EmulatedAccount;
export const route = lib("routes.js") as (req: IncomingMessage) => [Record<string, string>, RouteHandler] | undefined;
export const parsePartitionKey = (require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header.js") as {
  parsePartitionKey(header: unknown, fallback: unknown): unknown;
}).parsePartitionKey;

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
