import type { HttpHandler } from "@azure/functions";

/** `GET /api/health`: the only anonymous route. Says the app is up; touches nothing. */
export const health: HttpHandler = async () => ({ status: 200, jsonBody: { status: "ok" } });
