import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { applyFields, dotted, updateFields, type FieldConflict, type ManagedFieldsEntry } from "./fake-kube-fields.js";

/**
 * A FAKE Kubernetes API server: no cluster can run on these machines, so the AKS target is tested
 * against this stand-in. It serves the real REST paths, discovery documents and object shapes
 * the client library uses (server-side apply PATCHes with `application/apply-patch+yaml`, a field
 * manager and field ownership as fake-kube-fields.ts keeps it; GET, DELETE, lists, pod logs),
 * refuses names as apimachinery does, authorizes as AKS's Azure RBAC webhook does when
 * `azureRbac` is on (data actions of role assignments, by scope), and plays two controllers: the
 * deployment controller (a new template rolls out after a short delay; an image whose reference
 * says `broken` or `slow` ends in ProgressDeadlineExceeded at the progress deadline, as a
 * crash-looping or never-ready pod does) and the HPA controller. Ingresses get an address.
 */

interface Resource {
  group: string; // "" for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: Resource[] = [
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true },
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  { group: "networking.k8s.io", version: "v1", plural: "ingresses", kind: "Ingress", namespaced: true },
  { group: "networking.k8s.io", version: "v1", plural: "networkpolicies", kind: "NetworkPolicy", namespaced: true },
  { group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler", namespaced: true },
];

export const INGRESS_IP = "20.61.10.7";

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: ManagedFieldsEntry[];
    uid?: string;
    resourceVersion?: string;
  };
  /** The fields the fake reads; the rest of an object is kept as it was sent. */
  spec?: { replicas?: number; minReplicas?: number; template?: { metadata?: { labels?: Record<string, string> } } } & Record<
    string,
    unknown
  >;
  status?: { availableReplicas?: number } & Record<string, unknown>;
  data?: Record<string, string>;
};

interface Grant {
  principalId: string;
  dataActions: string[];
  namespace?: string;
  effectiveAt: number;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
}

export class FakeKubeApiServer {
  readonly objects = new Map<string, Obj>();
  readonly requests: RecordedRequest[] = [];
  /** How long the fake controller takes to roll a new template out. */
  rolloutDelayMs = 60;
  /** How long one second of a Deployment's progressDeadlineSeconds lasts here (tests shrink it). */
  msPerSecond = 1000;
  /** How long after a progress deadline the controller's next sync reports it. */
  controllerSyncLagMs = 200;
  /** A controller that is down: rollouts neither finish nor fail. */
  controllerPaused = false;
  /** The replica count the autoscalers want (undefined: their minimum). */
  autoscaledReplicas: number | undefined;
  /** Every replica count each Deployment (`<namespace>/<name>`) had, in order. */
  readonly replicaHistory = new Map<string, number[]>();
  /**
   * Azure RBAC for Kubernetes authorization, as AKS's webhook does it: with it on, a caller may
   * do only what the data actions of its role assignments allow, at cluster scope or in the one
   * namespace an assignment is scoped to, and only once the assignment has propagated.
   */
  azureRbac = false;
  readonly grants: Grant[] = [];
  /** Who each bearer token is: its Entra ID object id. */
  readonly principals = new Map<string, string>();
  #server: Server | undefined;
  #version = 1;
  url = "";

  async start(token: string, principalId = "5a1c3e9b-7f60-4d2a-9c84-0e6b2d1f7a31"): Promise<this> {
    this.principals.set(token, principalId);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => send(res, 500, status(500, "InternalError", String(err))));
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    const address = this.#server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  get(plural: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.objects.get(key(plural, namespace, name));
  }

  /** What the principal may do from `effectiveAt` on: in one namespace, or (no namespace) cluster-wide. */
  grant(principalId: string, dataActions: string[], namespace?: string, effectiveAt = Date.now()): void {
    this.grants.push({ principalId, dataActions, ...(namespace ? { namespace } : {}), effectiveAt });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    this.requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers["content-type"],
      authorization: req.headers.authorization,
    });
    const principal = this.principals.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
    if (!principal) return send(res, 401, status(401, "Unauthorized", "Unauthorized"));

    // Discovery: which resources a group/version serves (the client looks kinds up here).
    const discovery = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(url.pathname);
    if (discovery && req.method === "GET") {
      const [group, version] = discovery[1] ? ["", "v1"] : [discovery[2]!, discovery[3]!];
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0) return send(res, 404, status(404, "NotFound", "the server could not find the requested resource"));
      return send(res, 200, {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: group ? `${group}/${version}` : version,
        resources: resources.map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        })),
      });
    }

    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
    if (log && req.method === "GET") {
      const refused = this.#refusal(principal, "GET", { group: "", plural: "pods", sub: "log", namespace: log[1], name: log[2] });
      if (refused) return send(res, 403, refused);
      const pod = this.get("pods", log[1], log[2]!);
      if (!pod) return send(res, 404, status(404, "NotFound", `pods "${log[2]}" not found`));
      const lines = [
        `${new Date(0).toISOString()} [scoring] listening on 0.0.0.0:5001`,
        `${new Date(0).toISOString()} [scoring] driver ready`,
        `${new Date(0).toISOString()} [scoring] pod ${log[2]}`,
      ];
      const tail = Number(url.searchParams.get("tailLines") ?? lines.length);
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end(lines.slice(-tail).join("\n") + "\n");
    }

    const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const resource = m && RESOURCES.find((r) => r.plural === m[4] && r.group === (m[1] ?? "") && r.version === (m[2] ?? "v1"));
    if (!m || !resource) return send(res, 404, status(404, "NotFound", "the server could not find the requested resource"));
    const namespace = m[3];
    const name = m[5];
    const refused = this.#refusal(principal, req.method ?? "GET", { group: resource.group, plural: resource.plural, namespace, name });
    if (refused) return send(res, 403, refused);

    if (!name && req.method === "GET") {
      const selector = url.searchParams.get("labelSelector");
      const items = [...this.objects.values()].filter(
        (o) => o.kind === resource.kind && (!namespace || o.metadata.namespace === namespace) && matches(o.metadata.labels, selector),
      );
      return send(res, 200, {
        kind: `${resource.kind}List`,
        apiVersion: resource.group ? `${resource.group}/${resource.version}` : "v1",
        metadata: { resourceVersion: String(this.#version) },
        items,
      });
    }
    if (!name) return send(res, 405, status(405, "MethodNotAllowed", "not supported"));
    const k = key(resource.plural, namespace, name);
    const existing = this.objects.get(k);

    switch (req.method) {
      case "GET":
        return existing ? send(res, 200, existing) : send(res, 404, status(404, "NotFound", `${resource.plural} "${name}" not found`));
      case "DELETE": {
        if (!existing) return send(res, 404, status(404, "NotFound", `${resource.plural} "${name}" not found`));
        this.objects.delete(k);
        if (resource.kind === "Deployment") this.#setPods(existing, 0);
        if (resource.kind === "HorizontalPodAutoscaler") this.#runAutoscalers();
        return send(res, 200, { kind: "Status", apiVersion: "v1", status: "Success", details: { name, kind: resource.plural } });
      }
      case "PATCH": {
        if (req.headers["content-type"] !== "application/apply-patch+yaml")
          return send(
            res,
            415,
            status(
              415,
              "UnsupportedMediaType",
              `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`,
            ),
          );
        const manager = url.searchParams.get("fieldManager");
        if (!manager)
          return send(
            res,
            400,
            status(400, "BadRequest", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'),
          );
        const applied = JSON.parse(body.toString("utf8")) as Obj;
        if (applied.kind !== resource.kind || applied.metadata?.name !== name)
          return send(res, 400, status(400, "BadRequest", "the name or kind of the object does not match the request"));
        const invalidName = nameRuleBroken(resource.kind, name);
        if (invalidName)
          return send(
            res,
            422,
            status(422, "Invalid", `${resource.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": ${invalidName}`),
          );
        if (resource.namespaced && applied.metadata.namespace && applied.metadata.namespace !== namespace)
          return send(res, 400, status(400, "BadRequest", "the namespace of the object does not match the namespace on the request"));
        if (resource.namespaced && !this.get("namespaces", undefined, namespace!))
          return send(res, 404, status(404, "NotFound", `namespaces "${namespace}" not found`));
        const merged = applyFields(existing, applied, manager, url.searchParams.get("force") === "true", applied.apiVersion);
        if ("conflicts" in merged) return send(res, 409, conflictStatus(merged.conflicts, applied.apiVersion));
        const object = merged.object as Obj;
        // The API server's defaults: a Deployment no manager gives a replica count runs one.
        if (resource.kind === "Deployment") object.spec = { replicas: 1, ...object.spec };
        const specChanged = JSON.stringify(existing?.spec) !== JSON.stringify(object.spec);
        const stored: Obj = {
          ...object,
          apiVersion: applied.apiVersion,
          kind: applied.kind,
          metadata: {
            ...object.metadata,
            name,
            ...(resource.namespaced ? { namespace } : {}),
            uid: existing?.metadata.uid ?? createHash("sha1").update(k).digest("hex"),
            resourceVersion: String(++this.#version),
            generation: (existing?.metadata.generation ?? 0) + (existing && !specChanged ? 0 : 1),
            managedFields: merged.managedFields,
          },
        };
        this.objects.set(k, stored);
        if (resource.kind === "Deployment") {
          this.#recordReplicas(stored);
          if (specChanged) this.#rollOut(k);
        }
        if (resource.kind === "Ingress") stored.status = { loadBalancer: { ingress: [{ ip: INGRESS_IP }] } };
        this.#runAutoscalers();
        return send(res, existing ? 200 : 201, stored);
      }
      default:
        return send(res, 405, status(405, "MethodNotAllowed", `${req.method} is not supported`));
    }
  }

  /** Azure RBAC's answer to a request: undefined when allowed, else the 403 Status AKS sends. */
  #refusal(
    principal: string,
    method: string,
    target: { group: string; plural: string; sub?: string; namespace: string | undefined; name: string | undefined },
  ) {
    if (!this.azureRbac) return undefined;
    const verb = method === "GET" ? "read" : method === "DELETE" ? "delete" : "write";
    const action = `Microsoft.ContainerService/managedClusters/${target.group ? `${target.group}/` : ""}${target.plural}${target.sub ? `/${target.sub}` : ""}/${verb}`;
    const allowed = this.grants.some(
      (g) =>
        g.principalId === principal &&
        g.effectiveAt <= Date.now() &&
        (g.namespace === undefined || g.namespace === target.namespace) &&
        g.dataActions.some((pattern) => new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "i").test(action)),
    );
    if (allowed) return undefined;
    const k8sVerb = method === "GET" ? (target.name ? "get" : "list") : method === "DELETE" ? "delete" : "patch";
    const what = `${target.plural}${target.sub ? `/${target.sub}` : ""}`;
    const where = target.namespace ? ` in the namespace "${target.namespace}"` : " at the cluster scope";
    return status(
      403,
      "Forbidden",
      `${what}${target.name ? ` "${target.name}"` : ""} is forbidden: User "${principal}" cannot ${k8sVerb} resource "${what}" in API group "${target.group}"${where}: User does not have access to the resource in Azure. Update role assignment to allow access.`,
    );
  }

  /**
   * The deployment controller, faked. A template whose image reference says `broken` (pods crash
   * in a loop) or `slow` (pods never get ready) is reported ProgressDeadlineExceeded as the real
   * controller does: at its first sync after the Deployment's progressDeadlineSeconds, not
   * before. Any other template is rolled out after `rolloutDelayMs`. A paused controller
   * (`controllerPaused`) observes nothing and reports nothing, as when kube-controller-manager
   * is down.
   */
  #rollOut(k: string): void {
    const d = this.objects.get(k)!;
    const generation = d.metadata.generation!;
    const previousAvailable = (d.status?.availableReplicas as number | undefined) ?? 0;
    d.status = {
      ...d.status,
      observedGeneration: generation - 1,
      replicas: previousAvailable + 1,
      updatedReplicas: 0,
      availableReplicas: previousAvailable,
      conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated" }],
    };
    if (this.controllerPaused) return;
    const template = JSON.stringify(d.spec?.template);
    const stuck = template.includes("broken") || template.includes("slow");
    const deadlineMs = Number(d.spec?.progressDeadlineSeconds ?? 600) * this.msPerSecond + this.controllerSyncLagMs;
    setTimeout(
      () => {
        const now = this.objects.get(k);
        if (!now || now.metadata.generation !== generation || this.controllerPaused) return;
        if (stuck) {
          now.status = {
            ...now.status,
            observedGeneration: generation,
            conditions: [
              {
                type: "Progressing",
                status: "False",
                reason: "ProgressDeadlineExceeded",
                message: `ReplicaSet "${now.metadata.name}-${templateHash(now)}" has timed out progressing.`,
              },
            ],
          };
          return;
        }
        const desired = now.spec?.replicas ?? 1;
        now.status = {
          observedGeneration: generation,
          replicas: desired,
          updatedReplicas: desired,
          readyReplicas: desired,
          availableReplicas: desired,
          conditions: [
            { type: "Available", status: "True" },
            { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
          ],
        };
        this.#setPods(now, desired);
      },
      stuck ? deadlineMs : this.rolloutDelayMs,
    );
  }

  /**
   * The horizontal pod autoscaler controller, faked: it sets the replica count of each HPA's
   * Deployment to `autoscaledReplicas` (within the HPA's bounds) through the scale subresource,
   * an Update that takes `spec.replicas` from whoever owned it.
   */
  #runAutoscalers(): void {
    for (const hpa of this.objects.values()) {
      if (hpa.kind !== "HorizontalPodAutoscaler") continue;
      const ref = hpa.spec?.scaleTargetRef as { name?: string } | undefined;
      const k = key("deployments", hpa.metadata.namespace, ref?.name ?? "");
      const d = this.objects.get(k);
      if (!d) continue;
      const min = Number(hpa.spec?.minReplicas ?? 1);
      const max = Number(hpa.spec?.maxReplicas ?? min);
      const wanted = Math.min(max, Math.max(min, this.autoscaledReplicas ?? min));
      if (d.spec?.replicas === wanted) continue;
      updateFields(d as Obj & Record<string, unknown>, "kube-controller-manager", { "spec.replicas": wanted }, "apps/v1", "scale");
      d.metadata.generation = (d.metadata.generation ?? 0) + 1;
      d.metadata.resourceVersion = String(++this.#version);
      this.#recordReplicas(d);
      this.#rollOut(k);
    }
  }

  #recordReplicas(d: Obj): void {
    const k = `${d.metadata.namespace}/${d.metadata.name}`;
    const history = this.replicaHistory.get(k) ?? [];
    if (history.at(-1) !== d.spec?.replicas) history.push(d.spec?.replicas ?? 0);
    this.replicaHistory.set(k, history);
  }

  #setPods(d: Obj, count: number): void {
    for (const [k, o] of this.objects)
      if (
        o.kind === "Pod" &&
        o.metadata.labels?.["app.kubernetes.io/name"] === d.metadata.name &&
        o.metadata.namespace === d.metadata.namespace
      )
        this.objects.delete(k);
    for (let i = 0; i < count; i++) {
      const name = `${d.metadata.name}-${templateHash(d)}-${i}`;
      this.objects.set(key("pods", d.metadata.namespace, name), {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: d.metadata.namespace, labels: d.spec?.template?.metadata?.labels },
        status: { phase: "Running" },
      });
    }
  }
}

function templateHash(d: Obj): string {
  return createHash("sha1").update(JSON.stringify(d.spec?.template)).digest("hex").slice(0, 10);
}

function key(plural: string, namespace: string | undefined, name: string): string {
  return `${plural}/${namespace ?? ""}/${name}`;
}

function matches(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=");
    return labels?.[k!] === v;
  });
}

/** A 409 as the API server words an apply's conflicts with other field managers. */
function conflictStatus(conflicts: FieldConflict[], apiVersion: string) {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with "${c.manager}" using ${apiVersion}`,
    field: dotted(c.path),
  }));
  const list = causes.map((c) => `${c.message}: ${c.field}`).join("\n- ");
  return {
    ...status(409, "Conflict", `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}: ${list}`),
    details: { causes },
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/**
 * The API server's name rules (apimachinery's validation): a Service's name is a DNS-1035 label
 * (it becomes a DNS name, so it starts with a letter), a Namespace's a DNS-1123 label, the rest
 * DNS-1123 subdomains. What is wrong, as the server says it; undefined for a valid name.
 */
function nameRuleBroken(kind: string, name: string): string | undefined {
  const label1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (kind === "Service")
    return /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63
      ? undefined
      : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  if (kind === "Namespace")
    return label1123.test(name) && name.length <= 63
      ? undefined
      : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  return name.length <= 253 && name.split(".").every((part) => label1123.test(part))
    ? undefined
    : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
}
