import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { Mapper } from "@azure/core-client";
import * as aksMappers from "../../node_modules/@azure/arm-containerservice/dist/esm/models/mappers.js";
import * as authorizationMappers from "@azure/arm-authorization/dist-esm/src/models/mappers.js";
import { AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { ArmManagedNamespaces } from "../../shared/compute/aks/account-namespaces.js";
import { AKS_ENTRA_SERVER_APP, aksAccess } from "../../shared/compute/aks/aks-access.js";
import { DEFAULT_AKS_SETTINGS, type AksSettings } from "../../shared/compute/aks/kube-objects.js";
import { FakeKubeApiServer } from "./fake-kube-apiserver.js";
import { fakeArm, fakeCredential } from "./fake-arm.js";
import { invalidContent } from "./sdk-shape.js";
import { PROJECT_ROOT } from "./local-stack.js";
import { parseBicepFile } from "./bicep.js";

export const SUBSCRIPTION = "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10";
export const CLUSTER_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/ml-rg/providers/Microsoft.ContainerService/managedClusters/mm-aks`;
/** The app's managed identity (its object id), and the tokens Entra ID gives it. */
export const APP_PRINCIPAL = "5a1c3e9b-7f60-4d2a-9c84-0e6b2d1f7a31";
export const AKS_TOKEN = "entra-token-for-aks";
const NAMESPACE_ROLE_ID = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/3d9e2b1c-4a5f-4e6d-8b7a-9c0d1e2f3a4b`;
/** Namespaces AKS never takes as managed namespaces. */
const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default", "app-routing-system", "gatekeeper-system"];

/** An ARM access token as Entra ID issues one to the app: a JWT whose payload names it (`oid`). */
const appArmToken = (): string =>
  ["e30", Buffer.from(JSON.stringify({ oid: APP_PRINCIPAL, aud: "https://management.azure.com" })).toString("base64url"), "c2ln"].join(".");

/**
 * The data actions of each custom role in infra/modules/roles.bicep, by its symbol, read from the
 * Bicep itself: the fake cluster allows the app what the deployed roles would, no more.
 */
async function bicepRoleDataActions(): Promise<Map<string, string[]>> {
  const roles = await parseBicepFile(join(PROJECT_ROOT, "infra", "modules", "roles.bicep"));
  return new Map(
    roles.resources
      .filter((r) => r.type === "Microsoft.Authorization/roleDefinitions")
      .map((r) => {
        const permissions = (r.body.properties as { permissions?: { dataActions?: unknown[] }[] }).permissions ?? [];
        return [r.symbol, permissions.flatMap((p) => p.dataActions ?? []).filter((a): a is string => typeof a === "string")];
      }),
  );
}

/**
 * A FAKE of the Azure around an AKS cluster, since none is reachable here: ARM's managed
 * namespaces and role assignments (answering the SDK clients through their HttpClient, each
 * request body held to the SDK's own model mappers) wired to a fake Kubernetes API server whose
 * Azure RBAC follows the role assignments. The app holds at cluster scope the data actions of
 * infra/'s cluster role (none) and, in each namespace it grants itself, those of the namespace role.
 */
export class FakeAks {
  readonly kube = new FakeKubeApiServer();
  /** How long a role assignment takes to reach the cluster's authorization (Azure: up to 5 minutes). */
  propagationMs = 0;
  readonly assignments = new Map<string, { scope: string; roleDefinitionId: string; principalId: string; createdOn: string }>();
  readonly refusedBodies: string[] = [];
  readonly arm = fakeArm({}, (method, url, body) => this.#arm(method, url, body));
  readonly credential = fakeCredential({
    "https://management.azure.com/.default": appArmToken(),
    [`${AKS_ENTRA_SERVER_APP}/.default`]: AKS_TOKEN,
  });

  /** What the app may do in the namespaces it grants itself (the Bicep's namespace role). */
  #namespaceDataActions: string[] = [];

  async start(): Promise<this> {
    const roles = await bicepRoleDataActions();
    const role = (symbol: string): string[] => {
      const actions = roles.get(symbol);
      if (!actions) throw new Error(`roles.bicep defines no role ${symbol}`);
      return actions;
    };
    this.#namespaceDataActions = role("aksNamespaceDeployer");
    await this.kube.start(AKS_TOKEN, APP_PRINCIPAL);
    this.kube.azureRbac = true;
    // At cluster scope, the app holds what infra/'s cluster role gives it in Kubernetes: nothing.
    this.kube.grant(APP_PRINCIPAL, role("aksNamespaceMaker"));
    for (const ns of SYSTEM_NAMESPACES)
      this.kube.objects.set(`namespaces//${ns}`, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    return this;
  }

  stop(): Promise<void> {
    return this.kube.stop();
  }

  /**
   * The AKS compute target as the app makes it, on this fake cluster: its credentials through
   * ARM's listClusterUserCredential as in Azure (`viaArm`), or a kubeconfig made here.
   */
  target(
    settings: Partial<AksSettings> = {},
    options: { accessRetryMs?: number; accessPropagationMs?: number; viaArm?: boolean } = {},
  ): AksComputeTarget {
    return new AksComputeTarget({
      settings: { ...DEFAULT_AKS_SETTINGS, ...settings },
      access: options.viaArm
        ? aksAccess(CLUSTER_ID, this.credential, { httpClient: this.arm })
        : async () => {
            const kc = new KubeConfig();
            // skipTLSVerify: the client allows the fake's plain http only so.
            kc.loadFromOptions({
              clusters: [{ name: "aks", server: this.kube.url, skipTLSVerify: true }],
              users: [{ name: "app", token: AKS_TOKEN }],
              contexts: [{ name: "aks", cluster: "aks", user: "app" }],
              currentContext: "aks",
            });
            return kc;
          },
      namespaces: new ArmManagedNamespaces({
        clusterId: CLUSTER_ID,
        credential: this.credential,
        namespaceRoleId: NAMESPACE_ROLE_ID,
        clientOptions: { httpClient: this.arm },
      }),
      accessRetryMs: options.accessRetryMs ?? 50,
      ...(options.accessPropagationMs !== undefined ? { accessPropagationMs: options.accessPropagationMs } : {}),
    });
  }

  #arm(method: string, url: URL, body: string | undefined): { status?: number; body: unknown } | undefined {
    const path = url.pathname;
    if (method === "POST" && path.toLowerCase() === `${CLUSTER_ID}/listClusterUserCredential`.toLowerCase())
      return { body: { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(entraKubeconfig(this.kube.url)).toString("base64") }] } };
    if (method === "GET" && path.toLowerCase() === CLUSTER_ID.toLowerCase())
      return {
        body: {
          id: CLUSTER_ID,
          name: "mm-aks",
          type: "Microsoft.ContainerService/ManagedClusters",
          location: "westeurope",
          properties: {},
        },
      };

    const ns = new RegExp(`^${CLUSTER_ID}/managedNamespaces/([^/]+)$`, "i").exec(path);
    if (ns) {
      const name = ns[1]!;
      const id = `${CLUSTER_ID}/managedNamespaces/${name}`;
      const existing = this.kube.get("namespaces", undefined, name);
      const managed = existing?.metadata.labels?.["kubernetes.azure.com/managedByArm"] === "true";
      if (method === "GET")
        return managed
          ? {
              body: { id, name, location: "westeurope", properties: { provisioningState: "Succeeded", labels: existing!.metadata.labels } },
            }
          : undefined;
      if (method !== "PUT") return undefined;
      const request = JSON.parse(body ?? "{}") as { properties?: { labels?: Record<string, string>; adoptionPolicy?: string } };
      const invalid = this.#invalid(aksMappers.ManagedNamespace, aksMappers, request);
      if (invalid) return invalid;
      if (SYSTEM_NAMESPACES.includes(name))
        return armError(400, "InvalidParameter", `The namespace ${name} is a system namespace and cannot be a managed namespace.`);
      const labels = request.properties?.labels ?? {};
      const policy = request.properties?.adoptionPolicy ?? "Never";
      const identical = JSON.stringify(existing?.metadata.labels ?? {}) === JSON.stringify(labels);
      if (existing && !managed && (policy === "Never" || (policy === "IfIdentical" && !identical)))
        return armError(409, "NamespaceAlreadyExists", `The namespace ${name} exists on the cluster and the adoption policy is ${policy}.`);
      this.kube.objects.set(`namespaces//${name}`, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...labels, "kubernetes.azure.com/managedByArm": "true", "kubernetes.io/metadata.name": name } },
      });
      return {
        status: 201,
        body: { id, name, location: "westeurope", properties: { ...request.properties, provisioningState: "Succeeded" } },
      };
    }

    const ra = /^(.+)\/providers\/Microsoft\.Authorization\/roleAssignments\/([^/]+)$/i.exec(path);
    if (ra) {
      const [, scope, name] = ra as unknown as [string, string, string];
      const key = `${scope.toLowerCase()}/${name}`;
      const answer = (a: { scope: string; roleDefinitionId: string; principalId: string; createdOn: string }) => ({
        body: {
          id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
          name,
          type: "Microsoft.Authorization/roleAssignments",
          properties: a,
        },
      });
      if (method === "GET") return this.assignments.has(key) ? answer(this.assignments.get(key)!) : undefined;
      if (method !== "PUT") return undefined;
      const request = JSON.parse(body ?? "{}") as { properties: { roleDefinitionId: string; principalId: string } };
      const invalid = this.#invalid(authorizationMappers.RoleAssignmentCreateParameters, authorizationMappers, request);
      if (invalid) return invalid;
      // infra/'s assignment condition: the namespace role, to the app itself, under the cluster.
      const { roleDefinitionId, principalId } = request.properties;
      if (
        roleDefinitionId.toLowerCase() !== NAMESPACE_ROLE_ID.toLowerCase() ||
        principalId !== APP_PRINCIPAL ||
        !scope.toLowerCase().startsWith(`${CLUSTER_ID.toLowerCase()}/`)
      )
        return armError(
          403,
          "AuthorizationFailed",
          `The client '${principalId}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope}' or the scope is invalid. (condition not met)`,
        );
      if (this.assignments.has(key)) return armError(409, "RoleAssignmentExists", "The role assignment already exists.");
      const made = { scope, roleDefinitionId, principalId, createdOn: new Date().toISOString() };
      this.assignments.set(key, made);
      const namespace = /\/managedNamespaces\/([^/]+)$/i.exec(scope)?.[1];
      this.kube.grant(principalId, this.#namespaceDataActions, namespace, Date.now() + this.propagationMs);
      return { status: 201, ...answer(made) };
    }
    return undefined;
  }

  /** A 400 as ARM words it, when a body does not fit the SDK's model of it. */
  #invalid(mapper: Mapper, mappers: object, body: unknown): { status: number; body: unknown } | undefined {
    const invalid = invalidContent(mapper, mappers, body, this.refusedBodies);
    return invalid && { status: 400, body: invalid };
  }
}

/** What listClusterUserCredential returns for a cluster with Entra ID integration: a kubeconfig running kubelogin. */
function entraKubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: ${server}
    insecure-skip-tls-verify: true
  name: mm-aks
contexts:
- context:
    cluster: mm-aks
    user: clusterUser_ml-rg_mm-aks
  name: mm-aks
current-context: mm-aks
users:
- name: clusterUser_ml-rg_mm-aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, ${AKS_ENTRA_SERVER_APP}]
`;
}

function armError(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}
