import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { Application, ServicePrincipal } from "@microsoft/microsoft-graph-types";

type StoredApp = Application & { id: string; appId: string; uniqueName: string };

/**
 * A FAKE Microsoft Graph (v1.0), for the app registration azd's hooks make: no Entra ID tenant is
 * reachable here. It serves what they call, with Graph's documented behaviour: the upsert by
 * unique name (`PATCH /applications(uniqueName='…')`, made with `Prefer: create-if-missing`
 * answering 201 with the application, 204 for an update, 404 without the header), alternate-key
 * reads with `$select`, service principals by appId, deletes into the recycle bin and permanent
 * deletes from it. It refuses what Graph refuses: a pre-authorized permission that is not one of
 * the application's scopes, an identifier URI that is not `api://<appId>` or a verified domain's.
 */
export class FakeGraph {
  readonly apps = new Map<string, StoredApp>();
  readonly servicePrincipals = new Map<string, ServicePrincipal & { id: string }>();
  readonly deletedItems = new Map<string, StoredApp>();
  readonly calls: string[] = [];
  /** Answer every call with this status (403: the user may not register applications). */
  refuseWith: number | undefined;
  url = "";
  #server: Server | undefined;

  constructor(private readonly token: string) {}

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : undefined;
    const url = new URL(req.url ?? "/", "http://graph");
    const path = decodeURIComponent(url.pathname);
    this.calls.push(`${req.method} ${path}`);
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return send(res, 401, error("InvalidAuthenticationToken", "Access token is empty or invalid."));
    if (this.refuseWith)
      return send(res, this.refuseWith, error("Authorization_RequestDenied", "Insufficient privileges to complete the operation."));

    const byName = /^\/v1\.0\/applications\(uniqueName='([^']+)'\)$/.exec(path);
    if (byName) {
      const uniqueName = byName[1]!;
      const app = [...this.apps.values()].find((a) => a.uniqueName === uniqueName);
      if (req.method === "GET")
        return app ? send(res, 200, selected(app, url)) : send(res, 404, error("Request_ResourceNotFound", "not found"));
      if (req.method === "DELETE") {
        if (!app) return send(res, 404, error("Request_ResourceNotFound", "not found"));
        this.apps.delete(app.id);
        this.deletedItems.set(app.id, app);
        for (const [id, sp] of this.servicePrincipals) if (sp.appId === app.appId) this.servicePrincipals.delete(id);
        return send(res, 204);
      }
      if (req.method === "PATCH") {
        if (!app && req.headers.prefer !== "create-if-missing") return send(res, 404, error("Request_ResourceNotFound", "not found"));
        if (!app && [...this.deletedItems.values()].some((a) => a.uniqueName === uniqueName))
          return send(
            res,
            409,
            error("Request_MultipleObjectsWithSameKeyValue", "An application in the recycle bin holds this uniqueName."),
          );
        const target: StoredApp = app ?? { id: randomUUID(), appId: randomUUID(), uniqueName };
        const refused = this.#refusal(target, body ?? {});
        if (refused) return send(res, 400, refused);
        Object.assign(target, body);
        this.apps.set(target.id, target);
        return app ? send(res, 204) : send(res, 201, target);
      }
    }
    const sp = /^\/v1\.0\/servicePrincipals\(appId='([^']+)'\)$/.exec(path);
    if (sp && req.method === "GET") {
      const found = [...this.servicePrincipals.values()].find((s) => s.appId === sp[1]);
      return found ? send(res, 200, found) : send(res, 404, error("Request_ResourceNotFound", "not found"));
    }
    if (path === "/v1.0/servicePrincipals" && req.method === "POST") {
      const appId = body?.appId as string | undefined;
      if (!appId || ![...this.apps.values()].some((a) => a.appId === appId))
        return send(
          res,
          400,
          error("Request_BadRequest", "The appId of the service principal does not reference a valid application object."),
        );
      if ([...this.servicePrincipals.values()].some((s) => s.appId === appId))
        return send(res, 409, error("Request_MultipleObjectsWithSameKeyValue", "A service principal with this appId exists."));
      const made = { id: randomUUID(), appId };
      this.servicePrincipals.set(made.id, made);
      return send(res, 201, made);
    }
    const deleted = /^\/v1\.0\/directory\/deletedItems\/([^/]+)$/.exec(path);
    if (deleted && req.method === "DELETE") {
      return this.deletedItems.delete(deleted[1]!) ? send(res, 204) : send(res, 404, error("Request_ResourceNotFound", "not found"));
    }
    return send(res, 404, error("Request_ResourceNotFound", `${req.method} ${path} is not served by the fake Graph.`));
  }

  /** What Graph says no to in an application update. */
  #refusal(app: StoredApp, update: Application) {
    const scopes = update.api?.oauth2PermissionScopes ?? app.api?.oauth2PermissionScopes ?? [];
    for (const pre of update.api?.preAuthorizedApplications ?? [])
      for (const id of pre.delegatedPermissionIds ?? [])
        if (!scopes.some((s) => s.id === id))
          return error("InvalidValue", `Property PreAuthorizedApplication references non-existent permission ${id}.`);
    for (const uri of update.identifierUris ?? [])
      if (uri !== `api://${app.appId}`)
        return error(
          "HostNameNotOnVerifiedDomain",
          `Values of identifierUris property must use a verified domain of the organization or its subdomain: ${uri}`,
        );
    return undefined;
  }
}

function selected(app: StoredApp, url: URL): unknown {
  const select = url.searchParams.get("$select");
  if (!select) return app;
  const fields = app as unknown as Record<string, unknown>;
  return Object.fromEntries(select.split(",").map((k) => [k, fields[k]]));
}

function error(code: string, message: string) {
  return { error: { code, message } };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
