import { openLocalIssuer } from "../../devhost/local-issuer.js";
import { ApiContract } from "./contract.js";
import { API_VERSION } from "../../shared/schemas/api-version.js";
import type { ErrorResponse } from "../../shared/errors.js";
import type {
  AccountView,
  DeploymentView,
  ImageView,
  ManifestView,
  ModelView,
  OperationView,
  RoleAssignmentView,
  ServiceView,
} from "../../shared/views.js";

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/**
 * What the API answers, as tests read it: the fields of all its answers (a resource's view, a
 * page of them, an ErrorResponse, keys), typed as the app's own views type them, so that a test
 * reading a field no answer has, or misusing its type, does not compile. Whether a field is
 * there is what the tests assert, so none is optional here. Plain arrays (DeploymentList) are
 * asked for by their type.
 */
export type ApiBody = Required<
  UnionToIntersection<
    ModelView | ManifestView | AccountView | ImageView | OperationView | ServiceView | DeploymentView | RoleAssignmentView
  >
> &
  Required<ErrorResponse> & { value: ApiBody[]; nextLink: string; primaryKey: string; secondaryKey: string };
export const DEFAULT_ACCOUNT = "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/accounts/default";
export const LOCAL_USER = "00000000-0000-0000-0000-000000000001";

export interface ApiResponse<T = ApiBody> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A thin HTTP client for tests: the API as a client sees it. */
let contract: ApiContract | undefined;

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  url(path: string, query: Record<string, string | undefined> = {}, apiVersion: string | null = API_VERSION): string {
    const url = new URL(path.startsWith("http") ? path : `${this.baseUrl}/${path.replace(/^\//, "")}`);
    if (apiVersion !== null && !url.searchParams.has("api-version")) url.searchParams.set("api-version", apiVersion);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  async request<T = ApiBody>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      rawBody?: string | Buffer;
      query?: Record<string, string | undefined>;
      apiVersion?: string | null;
      headers?: Record<string, string>;
    } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(this.url(path, options.query, options.apiVersion === undefined ? API_VERSION : options.apiVersion), {
      method,
      headers,
      body,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    this.#holdToContract(method, res.url || this.url(path), res, parsed);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  /** Every answer of the API is held to its OpenAPI contract: one outside it fails the test that got it. */
  #holdToContract(method: string, url: string, res: Response, body: unknown): void {
    const base = new URL(this.baseUrl);
    const target = new URL(url);
    if (target.origin !== base.origin || !target.pathname.startsWith(base.pathname)) return;
    contract ??= new ApiContract();
    const problems = contract.problems(method, target.pathname.slice(base.pathname.length), res.status, res.headers, body);
    if (problems.length > 0) throw new Error(`The API answered outside its contract:\n${problems.join("\n")}`);
  }

  get<T = ApiBody>(path: string, query?: Record<string, string | undefined>) {
    return this.request<T>("GET", path, { query });
  }
  post<T = ApiBody>(path: string, body: unknown) {
    return this.request<T>("POST", path, { body });
  }
  put<T = ApiBody>(path: string, body: unknown) {
    return this.request<T>("PUT", path, { body });
  }
  delete<T = ApiBody>(path: string) {
    return this.request<T>("DELETE", path);
  }
}

/** Tokens of the stack's local issuer, for any principal. */
export async function tokensFor(dataDir: string) {
  const issuer = await openLocalIssuer(dataDir);
  return (principalId = LOCAL_USER, options: { ttlSeconds?: number; audience?: string } = {}) => issuer.mint({ principalId, ...options });
}

/** A fresh account owned by `owner`, so tests do not see each other's data. */
export async function createAccount(api: ApiClient, name: string, resourceGroup = "tests"): Promise<string> {
  const path = `subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${resourceGroup}/accounts/${name}`;
  const res = await api.put(path, { location: "local" });
  if (res.status !== 201) throw new Error(`creating ${path}: ${res.status} ${res.text}`);
  return path;
}

export function modelBody(name: string, extra: Record<string, unknown> = {}) {
  return { name, mimeType: "application/octet-stream", url: `https://models.example.com/${encodeURIComponent(name)}.pkl`, ...extra };
}

export function manifestBody(name: string, modelIds: string[], extra: Record<string, unknown> = {}) {
  return {
    name,
    driverProgram: "score.py",
    assets: [{ id: "score.py", mimeType: "text/x-python", url: "https://assets.example.com/score.py" }],
    modelIds,
    targetRuntime: { runtimeType: "Python", properties: {} },
    ...extra,
  };
}

/** Follows nextLink to the end; returns every item and the number of pages. */
export async function readAllPages(
  api: ApiClient,
  path: string,
  query: Record<string, string>,
): Promise<{ items: ApiBody[]; pages: number; links: string[] }> {
  const items: ApiBody[] = [];
  const links: string[] = [];
  let res = await api.get(path, query);
  let pages = 0;
  for (;;) {
    if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
    pages++;
    items.push(...res.body.value);
    if (!res.body.nextLink) break;
    links.push(res.body.nextLink);
    res = await api.request("GET", res.body.nextLink, { apiVersion: null });
  }
  return { items, pages, links };
}

/** Polls an operation until it ends (Succeeded, Failed or Cancelled). */
export async function waitForOperation(api: ApiClient, operationLocation: string, timeoutMs = 60_000): Promise<ApiBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.request("GET", operationLocation, { apiVersion: null });
    if (res.status !== 200) throw new Error(`GET ${operationLocation}: ${res.status} ${res.text}`);
    if (["Succeeded", "Failed", "Cancelled"].includes(res.body.state)) return res.body;
    if (Date.now() > deadline) throw new Error(`operation still ${res.body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
