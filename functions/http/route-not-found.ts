import type { HttpHandler } from "@azure/functions";
import { ApiError } from "../../shared/errors.js";
import { json } from "../../shared/http/responses.js";

/** Paths no endpoint serves, and known paths with a method they do not take: 404 either way, as the Functions host answers. */
export const routeNotFound: HttpHandler = async (request) => {
  const error = new ApiError(
    404,
    "RouteNotFound",
    `No endpoint serves ${request.method} ${new URL(request.url).pathname}. See the API reference for the paths and methods.`,
  );
  return json(404, error.toResponse());
};
