import { createHash } from "node:crypto";
import type { Container, SqlQuerySpec } from "@azure/cosmos";
import { Errors } from "../errors.js";

export interface Page<T> {
  items: T[];
  /** The `$skipToken` of the next page; absent on the last page. */
  nextSkipToken?: string;
}

interface PageRequest {
  pageSize: number;
  skipToken?: string;
  /** Names the query and its filters: a token is only good for the query that issued it. */
  queryKey: string;
  /**
   * Single-partition queries pass the account; cross-partition ones leave it out. Queries also
   * filter on `c.pk` themselves, so that they mean the same against any store.
   */
  partitionKey?: string;
}

/**
 * One page of a query, resumed from a Cosmos continuation token (never OFFSET, so page 100
 * costs what page 1 does). The token goes to clients wrapped: base64url of the continuation
 * and the query key, plus a digest, so that a token altered or replayed against another query
 * is a 400. A digest is enough, no secret is needed: a forged continuation can only resume this
 * same query in this same partition, which the caller may read anyway.
 */
export async function queryPage<T>(container: Container, query: SqlQuerySpec, request: PageRequest): Promise<Page<T>> {
  const continuationToken = request.skipToken ? unwrapSkipToken(request.skipToken, request.queryKey) : undefined;
  let response;
  try {
    response = await container.items
      .query<T>(query, {
        maxItemCount: request.pageSize,
        continuationToken,
        ...(request.partitionKey !== undefined ? { partitionKey: request.partitionKey } : {}),
      })
      .fetchNext();
  } catch (err) {
    if (continuationToken && (err as { code?: unknown }).code === 400) throw Errors.invalidSkipToken("the store refused it");
    throw err;
  }
  const next = response.continuationToken;
  return {
    items: response.resources,
    ...(next && response.hasMoreResults !== false ? { nextSkipToken: wrapSkipToken(next, request.queryKey) } : {}),
  };
}

function digest(body: string): string {
  return createHash("sha256").update(body).digest("base64url").slice(0, 22);
}

export function wrapSkipToken(continuation: string, queryKey: string): string {
  const body = Buffer.from(JSON.stringify({ c: continuation, q: queryKey })).toString("base64url");
  return `${body}.${digest(body)}`;
}

export function unwrapSkipToken(token: string, queryKey: string): string {
  const [body, sum, ...rest] = token.split(".");
  if (!body || !sum || rest.length > 0 || digest(body) !== sum) throw Errors.invalidSkipToken("it was altered or truncated");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw Errors.invalidSkipToken("it was altered or truncated");
  }
  const { c, q } = (parsed ?? {}) as { c?: unknown; q?: unknown };
  if (typeof c !== "string") throw Errors.invalidSkipToken("it was altered or truncated");
  if (q !== queryKey) throw Errors.invalidSkipToken("it belongs to a list with other filters");
  return c;
}
