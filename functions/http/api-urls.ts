import type { HttpRequest } from "@azure/functions";
import { SUPPORTED_API_VERSIONS } from "../../shared/http/request.js";

/**
 * The absolute URL of an API path, on the host and under the route prefix the request came in
 * by: `…/api` + `/subscriptions/…/operations/{id}`.
 */
export function apiUrl(request: HttpRequest, accountScopedPath: string, withApiVersion = true): string {
  const url = new URL(request.url);
  const at = url.pathname.toLowerCase().indexOf("/subscriptions/");
  const prefix = at >= 0 ? url.pathname.slice(0, at) : "";
  return `${url.origin}${prefix}/${accountScopedPath}${withApiVersion ? `?api-version=${SUPPORTED_API_VERSIONS[0]}` : ""}`;
}

/** Where this API's OpenAPI description is, on the host the request came in by. */
export function swaggerLocation(request: HttpRequest): string {
  return `${new URL(request.url).origin}${apiPrefix(request)}/openapi.json`;
}

/** The route prefix part of a request's path (`/api`), for paths stored with operations. */
export function apiPrefix(request: HttpRequest): string {
  const path = new URL(request.url).pathname;
  const at = path.toLowerCase().indexOf("/subscriptions/");
  return at >= 0 ? path.slice(0, at) : "";
}
