import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";

interface ArmCall {
  method: string;
  url: URL;
  authorization: string | undefined;
}

type ArmAnswer = { status?: number; body: unknown };

/**
 * A FAKE Azure Resource Manager, plugged into an Azure SDK client as its HttpClient: no Azure
 * subscription is reachable from these machines. `routes` answer by method and path with the
 * response bodies ARM documents, then `others` (paths with names in them); anything else is
 * ARM's 404 error shape.
 */
export function fakeArm(
  routes: Record<string, (url: URL, body: string | undefined) => ArmAnswer>,
  others?: (method: string, url: URL, body: string | undefined) => ArmAnswer | undefined,
): HttpClient & { calls: ArmCall[] } {
  const calls: ArmCall[] = [];
  return {
    calls,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      calls.push({ method: request.method, url, authorization: request.headers.get("authorization") });
      const route = routes[`${request.method} ${url.pathname}`];
      const body = typeof request.body === "string" ? request.body : undefined;
      const answer = (route ? route(url, body) : others?.(request.method, url, body)) ?? {
        status: 404,
        body: { error: { code: "ResourceNotFound", message: `The resource at ${url.pathname} was not found.` } },
      };
      return {
        request,
        status: answer.status ?? 200,
        headers: createHttpHeaders({ "content-type": "application/json", "x-ms-request-id": "fake" }),
        bodyAsText: JSON.stringify(answer.body),
      };
    },
  };
}

/** A token credential that hands out a fixed token per scope, and remembers what was asked. */
export function fakeCredential(tokens: Record<string, string>) {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]) {
      const s = Array.isArray(scope) ? scope[0]! : scope;
      scopes.push(s);
      const token = tokens[s];
      if (!token) throw new Error(`no token for ${s}`);
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}
