import { CliError } from "./errors.js";
import type { TokenSource } from "./auth.js";

import { API_VERSION } from "../shared/schemas/api-version.js";

interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The API as the CLI calls it: paths relative to the account (or absolute URLs, such as a
 * nextLink or an Operation-Location), the api-version added, the bearer token sent, and any
 * non-2xx answer turned into a CliError carrying the ErrorResponse's own message.
 */
export class ModelManagementApi {
  constructor(
    readonly endpoint: string,
    readonly accountPath: string,
    private readonly token: TokenSource,
    private readonly trace: (line: string) => void = () => {},
    /** Where the endpoint came from, for the message when it cannot be reached. */
    private readonly endpointSource = "--endpoint",
  ) {}

  url(path: string, query: Record<string, string | number | undefined> = {}): URL {
    const url = /^https?:/.test(path)
      ? new URL(path)
      : new URL(
          `${this.endpoint.replace(/\/$/, "")}/${path.startsWith("/") ? path.slice(1) : `${this.accountPath}${path ? `/${path}` : ""}`}`,
        );
    if (!url.searchParams.has("api-version")) url.searchParams.set("api-version", API_VERSION);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  async call<T = unknown>(
    method: string,
    path: string,
    options: { query?: Record<string, string | number | undefined>; body?: unknown; allow?: number[] } = {},
  ): Promise<ApiAnswer<T>> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}`, accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `Could not reach ${url.origin} (${cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err))}), the endpoint of ${this.endpointSource}. Is the service running? (\`npm start\` locally.)`,
      );
    }
    const text = await res.text();
    this.trace(`${method} ${url.pathname}${url.search} → ${res.status} in ${Date.now() - started} ms`);
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok && !options.allow?.includes(res.status)) throw apiError(res.status, body);
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T = unknown>(path: string, query?: Record<string, string | number | undefined>): Promise<T> {
    return this.call<T>("GET", path, { query }).then((a) => a.body);
  }

  /** Every item of a paginated list, following nextLink, up to `top` items. */
  async list<T = unknown>(path: string, query: Record<string, string | number | undefined>, top?: number): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = this.url(path, query).toString();
    while (next && (top === undefined || items.length < top)) {
      const page: { value?: T[]; nextLink?: string } = await this.get(next);
      items.push(...(page.value ?? []));
      next = page.nextLink;
    }
    return top === undefined ? items : items.slice(0, top);
  }

  /** A create or update that answers 202: the operation id from its Operation-Location. */
  async startOperation(method: string, path: string, body: unknown): Promise<{ operationId: string; operationUrl: string }> {
    const answer = await this.call(method, path, { body });
    const location = answer.headers.get("operation-location");
    if (!location) throw new CliError(`The service accepted the request but named no operation to follow (no Operation-Location header).`);
    const operationId = new URL(location).pathname.split("/").pop() ?? "";
    return { operationId, operationUrl: location };
  }
}

function apiError(status: number, body: unknown): CliError {
  const error = body as { code?: string; message?: string; details?: { code?: string; message?: string }[] } | undefined;
  if (error && typeof error === "object" && typeof error.message === "string") {
    const details = (error.details ?? []).map((d) => `\n  - ${d.message ?? d.code}`).join("");
    return new CliError(`${error.message}${details}`, 1, error.code);
  }
  const hint = status === 401 ? " Sign in again with mm login." : "";
  return new CliError(`The service answered ${status}${typeof body === "string" && body ? `: ${body.slice(0, 200)}` : ""}.${hint}`);
}
