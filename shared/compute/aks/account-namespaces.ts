import { derivedGuid } from "../../crypto/derived-guid.js";
import { ContainerServiceClient, type ContainerServiceClientOptionalParams, type ManagedNamespace } from "@azure/arm-containerservice";
import { AuthorizationManagementClient, type AuthorizationManagementClientOptionalParams } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/identity";
import { parseClusterId } from "./cluster-id.js";

/** What the AKS target needs before it writes into an account's namespace. */
export interface AccountNamespaces {
  /** Makes the namespace and the app's access to it; when that access was granted. */
  ensure(namespace: string): Promise<{ grantedAt: Date }>;
}

interface ArmNamespacesOptions {
  clusterId: string;
  credential: TokenCredential;
  /** The role (a custom role of infra/) the app holds in each account's namespace: its resource id. */
  namespaceRoleId: string;
  /** The app's own principal (object id); by default the `oid` of the tokens its credential gets. */
  principalId?: string;
  clientOptions?: ContainerServiceClientOptionalParams & AuthorizationManagementClientOptionalParams;
}

const ARM_SCOPE = "https://management.azure.com/.default";
const MANAGED_BY = { "app.kubernetes.io/managed-by": "model-management" };

/**
 * Accounts' namespaces as AKS managed namespaces, made through ARM: the app needs no right on
 * the cluster as a whole (managed namespaces refuse system namespaces such as kube-system), and
 * its Kubernetes rights are a role assignment scoped to each namespace it made, which it grants
 * itself (infra/ lets it assign that one role to itself, nothing else).
 *
 * The namespace's own network policy lets pods be reached from their namespace only and call
 * nowhere; each service's objects add what it needs (kube-objects.ts).
 */
export class ArmManagedNamespaces implements AccountNamespaces {
  readonly #cluster: ReturnType<typeof parseClusterId>;
  readonly #aks: ContainerServiceClient;
  readonly #authorization: AuthorizationManagementClient;
  readonly #ensured = new Map<string, Promise<{ grantedAt: Date }>>();
  #location: Promise<string> | undefined;

  constructor(private readonly options: ArmNamespacesOptions) {
    this.#cluster = parseClusterId(options.clusterId);
    this.#aks = new ContainerServiceClient(options.credential, this.#cluster.subscriptionId, options.clientOptions);
    this.#authorization = new AuthorizationManagementClient(options.credential, this.#cluster.subscriptionId, options.clientOptions);
  }

  ensure(namespace: string): Promise<{ grantedAt: Date }> {
    let ensured = this.#ensured.get(namespace);
    if (!ensured) {
      ensured = this.#make(namespace);
      ensured.catch(() => this.#ensured.delete(namespace));
      this.#ensured.set(namespace, ensured);
    }
    return ensured;
  }

  async #make(namespace: string): Promise<{ grantedAt: Date }> {
    const { resourceGroup, name } = this.#cluster;
    const existing = await this.#aks.managedNamespaces.get(resourceGroup, name, namespace).catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
    const made: ManagedNamespace =
      existing ??
      (await this.#aks.managedNamespaces.beginCreateOrUpdateAndWait(resourceGroup, name, namespace, {
        location: await this.#clusterLocation(),
        properties: {
          labels: MANAGED_BY,
          // Pods take traffic from their own namespace only (one account's services) and make no
          // connection; policies add up, and each service's own (kube-objects.ts) lets the ingress
          // controller in and its pods out to DNS and beyond the cluster, but not to node credentials.
          defaultNetworkPolicy: { ingress: "AllowSameNamespace", egress: "DenyAll" },
          // A namespace of the same name made before (by an earlier version, through the
          // Kubernetes API) carries these same labels and is taken over; anything else is not.
          adoptionPolicy: "IfIdentical",
          deletePolicy: "Keep",
        },
      }));
    if (!made.id) throw new Error(`ARM returned no id for the managed namespace ${namespace}.`);
    // The SDK puts the scope after a slash of its own: a resource id without its leading one.
    return { grantedAt: await this.#grant(made.id.replace(/^\/+/, "")) };
  }

  /** The app's role in the namespace, once (a fixed assignment name); when it was made. */
  async #grant(scope: string): Promise<Date> {
    const principalId = this.options.principalId ?? (await this.#ownPrincipal());
    const assignmentName = derivedGuid(`${scope.toLowerCase()}|${principalId}|${this.options.namespaceRoleId.toLowerCase()}`);
    try {
      const made = await this.#authorization.roleAssignments.create(scope, assignmentName, {
        roleDefinitionId: this.options.namespaceRoleId,
        principalId,
        principalType: "ServicePrincipal",
        description: "Model Management: the app deploys scoring services into this account's namespace.",
      });
      return made.createdOn ?? new Date();
    } catch (err) {
      if (codeOf(err) !== "RoleAssignmentExists") throw err;
      const existing = await this.#authorization.roleAssignments.get(scope, assignmentName);
      return existing.createdOn ?? new Date(0);
    }
  }

  #clusterLocation(): Promise<string> {
    this.#location ??= this.#aks.managedClusters.get(this.#cluster.resourceGroup, this.#cluster.name).then((c) => c.location);
    return this.#location;
  }

  /** The object id Entra ID puts in the app's own tokens (a managed identity's principal id). */
  async #ownPrincipal(): Promise<string> {
    const token = await this.options.credential.getToken(ARM_SCOPE);
    const payload = token?.token.split(".")[1];
    const oid = payload ? (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { oid?: unknown }).oid : undefined;
    if (typeof oid !== "string") throw new Error("The app's Azure token names no principal (oid); set its principal id.");
    return oid;
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}
