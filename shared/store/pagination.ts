import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
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
 * Pages of queries over one container, each resumed from a Cosmos continuation token (never
 * OFFSET, so page 100 costs what page 1 does). Clients get the token wrapped as a `$skipToken`:
 * base64url of the continuation and what it is bound to (the query, its filters and the
 * account), with an HMAC-SHA256 under a server secret. A token altered, forged, or replayed
 * against another list or another account is a 400: a continuation names positions in a
 * partition, and another account's must never be resumed.
 */
export class Pages {
  constructor(
    private readonly container: Container,
    private readonly skipTokenKey: Buffer,
  ) {}

  async query<T>(query: SqlQuerySpec, request: PageRequest): Promise<Page<T>> {
    const boundTo = `${request.partitionKey ?? "*"}|${request.queryKey}`;
    const continuationToken = request.skipToken ? unwrapSkipToken(this.skipTokenKey, request.skipToken, boundTo) : undefined;
    let response;
    try {
      response = await this.container.items
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
      ...(next && response.hasMoreResults !== false ? { nextSkipToken: wrapSkipToken(this.skipTokenKey, next, boundTo) } : {}),
    };
  }
}

/**
 * The key skip tokens are signed with: derived (HKDF) from the server's secret, so that every
 * instance of the app accepts every other's tokens; without one, a random key of this process
 * (tokens then hold until it restarts).
 */
export function skipTokenKeyFrom(serverSecret: string | undefined): Buffer {
  if (!serverSecret) return randomBytes(32);
  return Buffer.from(hkdfSync("sha256", serverSecret, "", "model-management/skip-tokens", 32));
}

function mac(key: Buffer, body: string): string {
  return createHmac("sha256", key).update(body).digest("base64url");
}

export function wrapSkipToken(key: Buffer, continuation: string, boundTo: string): string {
  const body = Buffer.from(JSON.stringify({ c: continuation, q: boundTo })).toString("base64url");
  return `${body}.${mac(key, body)}`;
}

export function unwrapSkipToken(key: Buffer, token: string, boundTo: string): string {
  const [body, sum, ...rest] = token.split(".");
  const altered = () => Errors.invalidSkipToken("it was altered or truncated");
  if (!body || !sum || rest.length > 0) throw altered();
  const expected = Buffer.from(mac(key, body));
  const given = Buffer.from(sum);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw altered();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw altered();
  }
  const { c, q } = (parsed ?? {}) as { c?: unknown; q?: unknown };
  if (typeof c !== "string") throw altered();
  if (q !== boundTo) throw Errors.invalidSkipToken("it was issued for another list (other filters, or another account)");
  return c;
}
