import type { IncomingMessage, ServerResponse } from "node:http";
import type { FunctionRegistry, RegisteredFunction } from "./core-api.js";
import type { RpcHttpCookie, RpcHttpData } from "./core-types.js";
import { invokeFunction } from "./invoker.js";
import { byPrecedence, compileRoute, type CompiledRoute } from "./route-template.js";

interface HttpRoute {
  route: CompiledRoute;
  methods: Set<string>;
  fn: RegisteredFunction;
}

/** The HTTP-triggered functions of an app, routed as the Functions host routes them. */
export class HttpTriggers {
  #routes: HttpRoute[];

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly routePrefix: string,
  ) {
    this.#routes = [...registry.functions.values()]
      .filter((fn) => fn.trigger.type.toLowerCase() === "httptrigger")
      .map((fn) => {
        const opts = fn.trigger.options;
        const template = typeof opts.route === "string" && opts.route ? opts.route : fn.metadata.name;
        const methods = Array.isArray(opts.methods) && opts.methods.length ? opts.methods : ["GET", "POST"];
        return { route: compileRoute(template), methods: new Set(methods.map((m) => String(m).toUpperCase())), fn };
      })
      .sort((a, b) => byPrecedence(a.route, b.route));
  }

  get routes(): { name: string; methods: string[]; template: string }[] {
    return this.#routes.map((r) => ({
      name: r.fn.metadata.name,
      methods: [...r.methods],
      template: `${this.routePrefix ? this.routePrefix + "/" : ""}${r.route.template}`,
    }));
  }

  /**
   * Finds the function for a path (without query) and method. A route known under another
   * method is not a match: the real host answers 404 there, not 405.
   */
  find(path: string, method: string): { fn: RegisteredFunction; params: Record<string, string> } | undefined {
    const prefix = this.routePrefix ? `/${this.routePrefix}` : "";
    if (prefix) {
      if (path.toLowerCase() !== prefix.toLowerCase() && !path.toLowerCase().startsWith(prefix.toLowerCase() + "/")) return undefined;
      path = path.slice(prefix.length);
    }
    for (const r of this.#routes) {
      if (!r.methods.has(method)) continue;
      const params = r.route.match(path);
      if (params) return { fn: r.fn, params };
    }
    return undefined;
  }

  /** Invokes the function for a request; false when no function serves it. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<boolean> {
    const method = (req.method ?? "GET").toUpperCase();
    const found = this.find(url.pathname, method);
    if (!found) return false;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const http: RpcHttpData = { method, url: url.toString(), headers, params: found.params, query };
    // The host sends a body only when there is one (Content-Length > 0).
    if (body.length > 0) http.body = { bytes: body };
    const outcome = await invokeFunction(this.registry, found.fn, { triggerData: { http } });
    if (!outcome.ok) {
      this.registry.log(
        "error",
        `system:${found.fn.metadata.name}`,
        `Executed '${found.fn.metadata.name}' (Failed, Id=${outcome.invocationId}): ${describe(outcome.error)}`,
      );
      res.statusCode = 500;
      res.end();
      return true;
    }
    const returned = outcome.response.returnValue?.http;
    if (!returned) {
      res.statusCode = 204;
      res.end();
      return true;
    }
    res.statusCode = Number(returned.statusCode ?? 200) || 200;
    for (const [k, v] of Object.entries(returned.headers ?? {})) res.setHeader(k, v);
    const cookies = (returned.cookies ?? []).map(serializeCookie);
    if (cookies.length) res.setHeader("set-cookie", cookies);
    const b = returned.body;
    const payload = b?.bytes ? Buffer.from(b.bytes) : b?.string !== undefined ? Buffer.from(b.string) : undefined;
    res.end(payload);
    return true;
  }
}

function serializeCookie(c: RpcHttpCookie): string {
  const parts = [`${c.name ?? ""}=${c.value ?? ""}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  if (c.expires?.value?.seconds !== undefined) parts.push(`Expires=${new Date(c.expires.value.seconds * 1000).toUTCString()}`);
  if (c.maxAge?.value !== undefined) parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push("Secure");
  if (c.httpOnly?.value) parts.push("HttpOnly");
  return parts.join("; ");
}

export function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
