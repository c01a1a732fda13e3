import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Ingress,
} from "@kubernetes/client-node";
import type { ComputeTarget, DeploymentSpec, RolloutState } from "../compute-target.js";
import type { AccountNamespaces } from "./account-namespaces.js";
import {
  DEFAULT_AKS_SETTINGS,
  deploymentIdOf,
  keysSecret,
  kubeNameOf,
  namespaceOf,
  networkPolicyName,
  selectorOf,
  serviceObjects,
  type AksSettings,
} from "./kube-objects.js";

/** Where a cluster's API and credentials come from: AKS through ARM in Azure, a fake in tests. */
export type KubeAccess = () => Promise<KubeConfig>;

export const FIELD_MANAGER = "model-management";
const RECONNECT_AFTER_MS = 30 * 60_000;
/** The pod template to go back to when a rollout fails, kept on the Deployment itself. */
const ROLLBACK_ANNOTATION = "model-management.io/rollback-template";

interface AksTargetOptions {
  access: KubeAccess;
  /** Makes each account's namespace and the app's access to it. */
  namespaces: AccountNamespaces;
  /**
   * How long after the app was granted a namespace a 403 from the cluster still means "not yet":
   * Azure role assignments take up to 5 minutes to reach the cluster's authorization webhook.
   */
  accessPropagationMs?: number;
  /** How long to wait between tries meanwhile. */
  accessRetryMs?: number;
  settings?: AksSettings;
  /** The ingress controller's public base URL, when known up front (it is also read from the Ingress's status after a rollout). */
  scoringBaseUrl?: string;
}

/**
 * An AKS cluster as a compute target: every object applied by server-side apply under one field
 * manager, a rolling update that keeps old pods until new ones are ready, the rollout followed
 * on the Deployment's status (observed generation, updated and available replicas, progress
 * deadline) and rolled back to the previous pod template when it fails.
 */
export class AksComputeTarget implements ComputeTarget {
  readonly #settings: AksSettings;
  #clients: Promise<{ objects: KubernetesObjectApi; core: CoreV1Api }> | undefined;
  #connectedAt = 0;

  constructor(private readonly options: AksTargetOptions) {
    this.#settings = options.settings ?? DEFAULT_AKS_SETTINGS;
  }

  scoringUri(targetName: string): string {
    return this.options.scoringBaseUrl ? `${this.options.scoringBaseUrl.replace(/\/$/, "")}/api/v1/service/${targetName}/score` : "";
  }

  async deploy(spec: DeploymentSpec): Promise<void> {
    const name = kubeNameOf(spec.targetName);
    const namespace = namespaceOf(spec.targetName);
    const { grantedAt } = await this.options.namespaces.ensure(namespace);
    await this.#onceAccessReached(grantedAt, () => this.#deploy(spec, name, namespace));
  }

  /**
   * Runs `work`, again while the cluster refuses it (403) and the app's role in the namespace is
   * younger than role assignments take to propagate.
   */
  async #onceAccessReached(grantedAt: Date, work: () => Promise<void>): Promise<void> {
    const propagationMs = this.options.accessPropagationMs ?? 6 * 60_000;
    for (;;) {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 403) || Date.now() - grantedAt.getTime() > propagationMs) throw err;
      }
      await new Promise((r) => setTimeout(r, this.options.accessRetryMs ?? 5_000));
    }
  }

  async #deploy(spec: DeploymentSpec, name: string, namespace: string): Promise<void> {
    const { objects } = await this.#connect();
    const current = await this.#readDeployment(objects, spec.targetName);
    if (current && spec.autoscaler && ownsReplicas(current)) await handReplicasOver(objects, current);
    // The autoscaler off: its HPA goes first, so that it cannot change the count about to be applied.
    if (!spec.autoscaler)
      await deleteIfThere(objects, { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name, namespace } });
    for (const object of serviceObjects(spec, this.#settings)) {
      if (object.kind === "Deployment") {
        // Remember what serves now, so that a failed rollout can go back to it. A Deployment
        // that never became available is no state to return to: keep the older one.
        const previous =
          current && isAvailable(current) && deploymentIdOf(current) !== spec.deploymentId
            ? JSON.stringify(current.spec?.template)
            : current?.metadata?.annotations?.[ROLLBACK_ANNOTATION];
        object.metadata = {
          ...object.metadata,
          annotations: { ...object.metadata?.annotations, ...(previous ? { [ROLLBACK_ANNOTATION]: previous } : {}) },
        };
      }
      await apply(objects, object);
    }
  }

  async rolloutState(targetName: string, deploymentId: string): Promise<RolloutState> {
    const { objects } = await this.#connect();
    const d = await this.#readDeployment(objects, targetName);
    if (!d) return { state: "Failed", error: "The cluster has no Deployment for the service (was it deleted?)." };
    if (deploymentIdOf(d) !== deploymentId) return { state: "Failed", error: "Another deployment of the service replaced this one." };
    const progressing = d.status?.conditions?.find((c) => c.type === "Progressing");
    if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
      const why = `the new pods did not become ready within ${d.spec?.progressDeadlineSeconds ?? 600} s (${progressing.message ?? "progress deadline exceeded"})`;
      return { state: "Failed", error: await this.#rollBack(objects, d, why) };
    }
    if (!isAvailable(d)) return { state: "InProgress" };
    const scoringUri = await this.#scoringUriFromIngress(objects, targetName);
    return { state: "Succeeded", ...(scoringUri ? { scoringUri } : {}) };
  }

  async abandon(targetName: string, deploymentId: string, why: string): Promise<RolloutState> {
    const { objects } = await this.#connect();
    const d = await this.#readDeployment(objects, targetName);
    // Replaced, gone, or rolled out after all: nothing to undo.
    if (!d || deploymentIdOf(d) !== deploymentId || isAvailable(d)) return this.rolloutState(targetName, deploymentId);
    return { state: "Failed", error: await this.#rollBack(objects, d, why) };
  }

  async updateKeys(targetName: string, keys: { primary: string; secondary: string }): Promise<void> {
    const { objects } = await this.#connect();
    await apply(objects, keysSecret({ targetName, keys }));
  }

  async delete(targetName: string): Promise<void> {
    const { objects } = await this.#connect();
    const namespace = namespaceOf(targetName);
    const metadata = { name: kubeNameOf(targetName), namespace };
    // The namespace stays: it is the account's, and other services may live in it.
    for (const header of [
      { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata },
      { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata },
      { apiVersion: "v1", kind: "Service", metadata },
      { apiVersion: "apps/v1", kind: "Deployment", metadata },
      { apiVersion: "v1", kind: "Secret", metadata: { name: `${kubeNameOf(targetName)}-keys`, namespace } },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: networkPolicyName(kubeNameOf(targetName)), namespace },
      },
    ])
      await deleteIfThere(objects, header);
  }

  async logs(targetName: string, tail: number): Promise<string> {
    const { core } = await this.#connect();
    const namespace = namespaceOf(targetName);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: selectorOf(targetName) });
    const parts: string[] = [];
    for (const pod of pods.items) {
      const name = pod.metadata?.name ?? "";
      const text = await core
        .readNamespacedPodLog({ name, namespace, container: "scoring", tailLines: tail })
        .catch((err: unknown) => `(no log: ${err instanceof Error ? err.message : String(err)})`);
      parts.push(
        ...String(text)
          .split("\n")
          .filter(Boolean)
          .map((line) => `[${name}] ${line}`),
      );
    }
    return parts.join("\n") + (parts.length ? "\n" : "");
  }

  /** Goes back to the template that served before, and says what happened. */
  async #rollBack(objects: KubernetesObjectApi, d: V1Deployment, why: string): Promise<string> {
    const previous = d.metadata?.annotations?.[ROLLBACK_ANNOTATION];
    if (!previous) return `${why}; there was no earlier deployment to go back to.`;
    const rolledBack: V1Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: d.metadata?.name,
        namespace: d.metadata?.namespace,
        labels: d.metadata?.labels,
        annotations: { [ROLLBACK_ANNOTATION]: previous },
      },
      spec: { ...d.spec!, template: JSON.parse(previous) as NonNullable<V1Deployment["spec"]>["template"] },
    };
    // The replica count goes back only if it is ours: with the autoscaler on, it is the HPA's,
    // and applying it would take it over (the next apply without it would then reset it).
    delete rolledBack.spec?.replicas;
    if (ownsReplicas(d) && d.spec?.replicas !== undefined) rolledBack.spec!.replicas = d.spec.replicas;
    await apply(objects, rolledBack);
    return `${why}; rolled back to the previous deployment.`;
  }

  async #scoringUriFromIngress(objects: KubernetesObjectApi, targetName: string): Promise<string | undefined> {
    const ingress = await this.#read<V1Ingress>(objects, {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: kubeNameOf(targetName), namespace: namespaceOf(targetName) },
    });
    const address = ingress?.status?.loadBalancer?.ingress?.[0];
    const host = address?.hostname ?? address?.ip;
    return host ? `http://${host}/api/v1/service/${targetName}/score` : undefined;
  }

  #readDeployment(objects: KubernetesObjectApi, targetName: string): Promise<V1Deployment | undefined> {
    return this.#read<V1Deployment>(objects, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: kubeNameOf(targetName), namespace: namespaceOf(targetName) },
    });
  }

  async #read<T extends KubernetesObject>(
    objects: KubernetesObjectApi,
    header: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } },
  ): Promise<T | undefined> {
    try {
      return (await objects.read(header)) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Clients of the cluster, made again every half hour: Entra ID tokens for AKS last about an hour. */
  #connect(): Promise<{ objects: KubernetesObjectApi; core: CoreV1Api }> {
    if (Date.now() - this.#connectedAt > RECONNECT_AFTER_MS) this.#clients = undefined;
    if (!this.#clients) this.#connectedAt = Date.now();
    this.#clients ??= this.options.access().then(
      (config) => ({ objects: KubernetesObjectApi.makeApiClient(config), core: config.makeApiClient(CoreV1Api) }),
      (err: unknown) => {
        this.#clients = undefined;
        throw err;
      },
    );
    return this.#clients;
  }
}

/** Server-side apply: we own the fields we set, and take them back if someone changed them. */
function apply(objects: KubernetesObjectApi, object: KubernetesObject): Promise<KubernetesObject> {
  return objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

/** The manager that keeps `spec.replicas` between our applies, until the HPA takes it. */
const HANDOVER_MANAGER = "model-management-handover";

/** Whether our field manager owns a Deployment's replica count (it does while the autoscaler is off). */
function ownsReplicas(d: V1Deployment): boolean {
  return (d.metadata?.managedFields ?? []).some(
    (e) =>
      e.manager === FIELD_MANAGER &&
      e.operation === "Apply" &&
      Object.hasOwn((e.fieldsV1 as { "f:spec"?: object } | undefined)?.["f:spec"] ?? {}, "f:replicas"),
  );
}

/**
 * Turning the autoscaler on: our next apply leaves `spec.replicas` out, and a field its only
 * owner stops applying is removed, which the API server defaults to 1 replica. So another
 * manager first applies the current count, and keeps it until the HPA takes it over: Kubernetes'
 * documented hand-over between managers (server-side apply, "Transferring ownership").
 */
async function handReplicasOver(objects: KubernetesObjectApi, d: V1Deployment): Promise<void> {
  const header = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: d.metadata!.name!, namespace: d.metadata!.namespace! } };
  await objects.patch(
    { ...header, spec: { replicas: d.spec?.replicas ?? 1 } } as KubernetesObject,
    undefined,
    undefined,
    HANDOVER_MANAGER,
    false,
    PatchStrategy.ServerSideApply,
  );
}

async function deleteIfThere(objects: KubernetesObjectApi, header: KubernetesObject): Promise<void> {
  try {
    await objects.delete(header, undefined, undefined, undefined, undefined, "Foreground");
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Every replica on the current template, and all of them available. */
function isAvailable(d: V1Deployment): boolean {
  const s = d.status;
  const wanted = d.spec?.replicas ?? s?.replicas ?? 1;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s?.updatedReplicas ?? 0) >= wanted &&
    (s?.availableReplicas ?? 0) >= wanted &&
    (s?.replicas ?? 0) <= wanted
  );
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}
