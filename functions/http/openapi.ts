import type { HttpHandler } from "@azure/functions";
import type { EndpointDescription } from "../../shared/http/endpoint-description.js";
import { openApiDocument } from "../../shared/openapi/openapi-document.js";
import { json } from "../../shared/http/responses.js";

/**
 * `GET /api/openapi.json` (anonymous, like health): the OpenAPI 3.1 description of the API,
 * generated from the endpoint catalog, whose schemas are the handlers' own. Its server is the
 * host the request came in by; accounts point at it (`modelManagementSwaggerLocation`).
 */
export const makeGetOpenApi = (endpoints: Record<string, EndpointDescription>): HttpHandler => {
  const documents = new Map<string, unknown>();
  return async (request) => {
    const url = new URL(request.url);
    const base = `${url.origin}${url.pathname.replace(/\/openapi\.json$/i, "")}`;
    let document = documents.get(base);
    if (!document) {
      document = openApiDocument(endpoints, base);
      if (documents.size < 16) documents.set(base, document); // a few hosts at most: bounded whatever Host headers say
    }
    return json(200, document, { "cache-control": "public, max-age=300" });
  };
};
