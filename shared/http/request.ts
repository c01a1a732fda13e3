import type { HttpRequest } from "@azure/functions";
import type { z } from "zod";
import { Errors } from "../errors.js";
import { issuesToDetails } from "./validation.js";
import { API_VERSION } from "../schemas/api-version.js";

export const SUPPORTED_API_VERSIONS = [API_VERSION] as const;

/** Bodies this API accepts are small JSON documents; 1 MB is far above any valid one. */
const MAX_BODY_BYTES = 1024 * 1024;

export function requireApiVersion(request: HttpRequest): void {
  const given = request.query.get("api-version");
  if (!given || !(SUPPORTED_API_VERSIONS as readonly string[]).includes(given))
    throw Errors.unsupportedApiVersion(given, SUPPORTED_API_VERSIONS);
}

export function parseParams<T extends z.ZodType>(schema: T, params: Record<string, string>): z.output<T> {
  const parsed = schema.safeParse(params, { reportInput: true });
  if (!parsed.success) {
    const details = issuesToDetails(parsed.error.issues);
    throw Errors.invalidPath(`The request path is not valid: ${details.map((d) => d.message).join("; ")}.`, details);
  }
  return parsed.data;
}

export function parseQuery<T extends z.ZodType>(schema: T, request: HttpRequest): z.output<T> {
  const query: Record<string, string> = {};
  for (const [k, v] of request.query) if (!(k in query)) query[k] = v;
  const parsed = schema.safeParse(query, { reportInput: true });
  if (!parsed.success) {
    const details = issuesToDetails(parsed.error.issues);
    throw Errors.invalidQuery(`The query string is not valid: ${details.map((d) => d.message).join("; ")}.`, details);
  }
  return parsed.data;
}

/**
 * Reads and validates a JSON body: at most 1 MB (413 beyond, checked on the declared length
 * before reading and on the bytes read), a JSON object, every schema violation listed.
 */
export async function readJsonBody<T extends z.ZodType>(schema: T, request: HttpRequest): Promise<z.output<T>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw Errors.bodyTooLarge(MAX_BODY_BYTES);
  const contentType = request.headers.get("content-type");
  if (contentType && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) throw Errors.unsupportedMediaType(contentType);
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw Errors.bodyTooLarge(MAX_BODY_BYTES);
  if (bytes.length === 0) throw Errors.invalidBody("The request body is empty; send a JSON object.");
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw Errors.invalidBody(`The request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw Errors.invalidBody("The request body must be a JSON object.");
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const details = issuesToDetails(parsed.error.issues);
    throw Errors.invalidBody(`The request body is not valid: ${details.map((d) => d.message).join("; ")}.`, details);
  }
  return parsed.data;
}

/** The absolute URL of the next page: this request's URL, filters and api-version kept, with the new token. */
export function nextLink(request: HttpRequest, skipToken: string | undefined): string | undefined {
  if (!skipToken) return undefined;
  const url = new URL(request.url);
  url.searchParams.set("$skipToken", skipToken);
  return url.toString();
}
