import type { IncomingMessage } from "node:http";
import {
  continuationTokens,
  parsePartitionKey,
  QuerySyntaxError,
  type EmulatedAccount,
  type EmulatedCollection,
  type EngineContinuation,
  type EngineQuery,
  type EngineQueryOptions,
  type EngineResult,
} from "./emulator-internals.js";
import { partitionsOf, storedDocuments, type OrderIndex } from "./partition-index.js";
import { singleOrderOf, type SingleOrder } from "./query-order.js";

/**
 * `POST …/colls/{coll}/docs` with a query, answered as Cosmos DB answers it:
 * - a query naming its partition (`x-ms-documentdb-partitionkey`) runs over that partition
 *   only, and one ordered by a single path reads that path's index from where its continuation
 *   token points, until the page is full, instead of sorting the whole container;
 * - a query plan request gets a plan, not the query's results (see queryPlan below).
 * Cross-partition queries run as @vercel/cosmosdb-server runs them, over every document. Rows,
 * their order and continuation tokens are the engine's own in every case: the engine still
 * filters, sorts and projects, only over fewer documents.
 */
type Res = { statusCode: number; setHeader(name: string, value: string): void };
type Doc = Record<string, unknown>;

export function isQueryPlanRequest(req: IncomingMessage): boolean {
  return String(req.headers["x-ms-cosmos-is-query-plan-request"] ?? "").toLowerCase() === "true";
}

/**
 * The answer to a query plan request. @azure/cosmos asks for a plan alongside every query and
 * only uses it if the gateway then refuses the query as needing one, which the emulator never
 * does: it runs ORDER BY, aggregates and everything else itself. Running the query a second
 * time to answer the plan request (as the emulator did) doubled the cost of every query. This
 * plan asks for no client-side pipeline, which is what the SDK does with the emulator's answers.
 */
export function queryPlan(): Doc {
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: "None",
      top: null,
      offset: null,
      limit: null,
      orderBy: [],
      orderByExpressions: [],
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: [],
      groupByAliasToAggregateType: {},
      rewrittenQuery: "",
      hasSelectValue: false,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: "", max: "FF", isMinInclusive: true, isMaxInclusive: false }],
  };
}

export async function queryDocuments(
  account: EmulatedAccount,
  req: IncomingMessage,
  res: Res,
  params: Record<string, string>,
  rawBody: Buffer,
): Promise<unknown> {
  let body: { query?: unknown; parameters?: EngineQueryOptions["parameters"] };
  try {
    body = JSON.parse(rawBody.toString("utf8")) as typeof body;
  } catch {
    res.statusCode = 400;
    return { message: "The query body is not JSON." };
  }
  if (typeof body?.query !== "string" || !body.query) {
    res.statusCode = 400;
    return { message: "missing query" };
  }
  const collection = account.database(params.dbId ?? "").collection(params.collId ?? "");
  const collectionBody = collection.read();
  if (!collectionBody) {
    res.statusCode = 404;
    return {};
  }
  let query: EngineQuery;
  try {
    query = collection.documents._getQuery(body.query);
  } catch (err) {
    if (err instanceof QuerySyntaxError) {
      res.statusCode = 400;
      return { code: "BadRequest", message: err.message };
    }
    throw err;
  }
  const crossPartitionAllowed = String(req.headers["x-ms-documentdb-query-enablecrosspartition"] ?? "").toLowerCase() === "true";
  const partitionKeyPaths = ((collectionBody.partitionKey as { paths?: string[] } | undefined)?.paths ?? []) as string[];
  if (!crossPartitionAllowed && partitionKeyPaths.length && !query.containsPartitionKeys(partitionKeyPaths)) {
    res.statusCode = 400;
    return { message: "missing partition keys" };
  }

  const maxItemCount = req.headers["x-ms-max-item-count"] ? Number.parseInt(String(req.headers["x-ms-max-item-count"]), 10) : null;
  const continuation = parseContinuation(req.headers["x-ms-continuation"]);
  const options: EngineQueryOptions = {
    parameters: body.parameters,
    udf: collection.documents._userDefinedFunctions(),
    maxItemCount,
    continuation,
    compositeIndexes: (collectionBody.indexingPolicy as { compositeIndexes?: unknown } | undefined)?.compositeIndexes ?? [],
  };
  const partitionHeader = req.headers["x-ms-documentdb-partitionkey"];
  let result: EngineResult;
  try {
    result =
      partitionHeader === undefined
        ? query.exec([...storedDocuments(collection.documents)], options)
        : runInPartition(
            collection,
            query,
            parsePartitionKey(Array.isArray(partitionHeader) ? partitionHeader[0] : partitionHeader, undefined),
            options,
          );
  } catch (err) {
    res.statusCode = 400;
    return { message: err instanceof Error ? err.message : String(err) };
  }
  if (result.continuation) res.setHeader("x-ms-continuation", JSON.stringify(result.continuation));
  res.setHeader("x-ms-item-count", String(result.result.length));
  return { Documents: result.result, _count: result.result.length };
}

function parseContinuation(header: string | string[] | undefined): EngineContinuation | null {
  if (!header) return null;
  try {
    return JSON.parse(Array.isArray(header) ? header[0]! : header) as EngineContinuation;
  } catch {
    return null;
  }
}

/** Each parsed query's ORDER BY, worked out once: the emulator keeps parsed queries by their text. */
const orders = new WeakMap<EngineQuery, SingleOrder | null>();

function orderOf(query: EngineQuery): SingleOrder | undefined {
  let order = orders.get(query);
  if (order === undefined) {
    order = singleOrderOf(query.ast) ?? null;
    orders.set(query, order);
  }
  return order ?? undefined;
}

function runInPartition(
  collection: EmulatedCollection,
  query: EngineQuery,
  partitionValue: unknown,
  options: EngineQueryOptions,
): EngineResult {
  const partition = partitionsOf(collection.documents).partition(partitionValue);
  if (!partition) return query.exec([], options);
  const order = orderOf(query);
  if (!order) return query.exec([...partition.docs.values()], options);
  const index = partition.ordered(order);
  const pageSize = options.maxItemCount !== null && options.maxItemCount > 0 ? options.maxItemCount : undefined;
  if (pageSize === undefined) return query.exec(index.take(index.size), options);
  return readPage(query, index, pageSize, options);
}

/**
 * One page, read along the index from where the continuation token points. The engine runs over
 * a window of the index that grows until it yields more rows than the page holds (the extra row
 * makes the next token) or the index ends: its rows are then exactly those the engine would
 * return from the whole partition, since the window is a prefix of the partition in its order.
 */
function readPage(query: EngineQuery, index: OrderIndex, pageSize: number, options: EngineQueryOptions): EngineResult {
  const token = options.continuation ? continuationTokens.decode(options.continuation.token) : undefined;
  const from = token?.RID !== undefined && Array.isArray(token.RTD) ? { value: token.RTD[0], rid: token.RID } : undefined;
  // A token without an ORDER BY position did not come from this query: let the engine judge it as before.
  if (token && !from) return query.exec(index.take(index.size), options);
  for (let window = Math.max(256, 2 * (pageSize + 1)); ; window *= 4) {
    const docs = index.take(window, from);
    const result = query.exec(docs, { ...options, continuation: null });
    if (result.continuation || docs.length < window)
      return { result: result.result, continuation: resumed(result.continuation, token, pageSize) };
  }
}

/** The window's token, with the page and row counts of the whole query (the engine counts from its own first page). */
function resumed(
  next: EngineContinuation | null,
  previous: { RT?: number; TRC?: number } | undefined,
  pageSize: number,
): EngineContinuation | null {
  if (!next || !previous) return next;
  const t = continuationTokens.decode(next.token);
  return { ...next, token: continuationTokens.encode({ ...t, RT: (previous.RT ?? 0) + 1, TRC: (previous.TRC ?? 0) + pageSize }) };
}
