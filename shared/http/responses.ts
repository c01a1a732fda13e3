import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import { ApiError } from "../errors.js";
import { ConfigError } from "../config.js";
import { Errors } from "../errors.js";

/** Network failures of a dependency (the database, storage): the caller is told to come back, not that the API broke. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

function dependencyDown(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 4) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => dependencyDown(inner, depth + 1))) return true;
  return dependencyDown(e.cause, depth + 1);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { "content-type": "application/json; charset=utf-8", ...headers } };
}

/**
 * The one place failures become HTTP answers: an ApiError as it is, anything else a 500 with
 * a correlation id, logged with its stack (never echoed to the caller).
 */
export function errorToResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (err instanceof ApiError) return json(err.statusCode, err.toResponse(), err.headers);
  if (dependencyDown(err)) {
    const unavailable = Errors.unavailable(context.invocationId);
    context.warn(
      `A dependency is unreachable (correlation id ${context.invocationId}): ${err instanceof Error ? err.message : String(err)}`,
    );
    return json(unavailable.statusCode, unavailable.toResponse(), unavailable.headers);
  }
  const apiError = Errors.internal(context.invocationId);
  if (err instanceof ConfigError) context.error(err.message);
  else context.error(`Unhandled error (correlation id ${context.invocationId}):`, err instanceof Error ? (err.stack ?? err.message) : err);
  return json(500, apiError.toResponse());
}
