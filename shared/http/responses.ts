import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import { ApiError } from "../errors.js";
import { ConfigError } from "../config.js";
import { Errors } from "../errors.js";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { "content-type": "application/json; charset=utf-8", ...headers } };
}

/**
 * The one place failures become HTTP answers: an ApiError as it is, anything else a 500 with
 * a correlation id, logged with its stack (never echoed to the caller).
 */
export function errorToResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  if (err instanceof ApiError) return json(err.statusCode, err.toResponse(), err.headers);
  const apiError = Errors.internal(context.invocationId);
  if (err instanceof ConfigError) context.error(err.message);
  else context.error(`Unhandled error (correlation id ${context.invocationId}):`, err instanceof Error ? (err.stack ?? err.message) : err);
  return json(500, apiError.toResponse());
}
