import { derivedGuid } from "../../shared/crypto/derived-guid.js";
import type { Application, ServicePrincipal } from "@microsoft/microsoft-graph-types";

/** The Azure CLI's application id (public, the same in every tenant): pre-authorized, so `az` users get tokens for the API. */
export const AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
export const API_SCOPE = "user_impersonation";

/** Calls Microsoft Graph v1.0 with a token; `baseUrl` is Graph's, or a fake's in tests. */
export interface Graph {
  baseUrl: string;
  token(): Promise<string>;
}

export interface ApiRegistration {
  /** The application (client) id: the audience of the API's v2 tokens. */
  appId: string;
  /** Its application ID URI, `api://<appId>`: the audience of v1 tokens and the scope's prefix. */
  identifierUri: string;
}

/**
 * The API's Entra ID app registration, made or brought up to date (it runs on every `azd
 * provision`): v2 access tokens, a `user_impersonation` scope, the Azure CLI pre-authorized for
 * it (so `mm login` through `az` needs no consent prompt), and a service principal, without
 * which the tenant issues no token for it. Found again by its unique name, so a second run
 * changes nothing. Microsoft Graph's JavaScript SDK would add a dependency for five calls; these
 * are plain REST with Graph's own types.
 */
export async function ensureApiRegistration(graph: Graph, uniqueName: string, displayName: string): Promise<ApiRegistration> {
  const scopeId = derivedGuid(`${uniqueName}|${API_SCOPE}`);
  const scope = {
    id: scopeId,
    value: API_SCOPE,
    type: "User",
    isEnabled: true,
    adminConsentDisplayName: "Use the Model Management API",
    adminConsentDescription: "Lets the app call the Model Management API as the signed-in user.",
    userConsentDisplayName: "Use the Model Management API",
    userConsentDescription: "Lets the app call the Model Management API as you.",
  };
  const path = `/applications(uniqueName='${encodeURIComponent(uniqueName)}')`;
  // Upsert: made if missing, updated otherwise. The scope must exist before an app is pre-authorized for it.
  const first: Application = {
    displayName,
    signInAudience: "AzureADMyOrg",
    api: { requestedAccessTokenVersion: 2, oauth2PermissionScopes: [scope] },
  };
  await call(graph, "PATCH", path, first, { Prefer: "create-if-missing" });
  const app = (await call(graph, "GET", `${path}?$select=id,appId`)) as { id: string; appId: string };
  const identifierUri = `api://${app.appId}`;
  const second: Application = {
    identifierUris: [identifierUri],
    api: {
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [scope],
      preAuthorizedApplications: [{ appId: AZURE_CLI_APP_ID, delegatedPermissionIds: [scopeId] }],
    },
  };
  await call(graph, "PATCH", path, second);
  const principal = await call(graph, "GET", `/servicePrincipals(appId='${app.appId}')?$select=id`, undefined, {}, [404]);
  if (!principal) await call(graph, "POST", "/servicePrincipals", { appId: app.appId } satisfies ServicePrincipal);
  return { appId: app.appId, identifierUri };
}

/**
 * Deletes the registration for good (`azd down`): the application, its service principal with it,
 * and the deleted application from the directory's recycle bin, so that its unique name is free
 * for the next `azd up`. Gone already is fine.
 */
export async function deleteApiRegistration(graph: Graph, uniqueName: string): Promise<boolean> {
  const path = `/applications(uniqueName='${encodeURIComponent(uniqueName)}')`;
  const app = (await call(graph, "GET", `${path}?$select=id`, undefined, {}, [404])) as { id: string } | undefined;
  if (!app) return false;
  await call(graph, "DELETE", path, undefined, {}, [404]);
  await call(graph, "DELETE", `/directory/deletedItems/${app.id}`, undefined, {}, [404]);
  return true;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "GraphError";
  }
}

/** One Graph call; undefined for a status listed as "not there". */
async function call(
  graph: Graph,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  absent: number[] = [],
): Promise<unknown> {
  const res = await fetch(`${graph.baseUrl}/v1.0${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await graph.token()}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (absent.includes(res.status)) return undefined;
  const text = await res.text();
  if (!res.ok) {
    const error = (JSON.parse(text || "{}") as { error?: { code?: string; message?: string } }).error;
    throw new GraphError(
      res.status,
      error?.code ?? String(res.status),
      `Microsoft Graph answered ${res.status} to ${method} ${path}: ${error?.message ?? text}`,
    );
  }
  return text ? JSON.parse(text) : undefined;
}
