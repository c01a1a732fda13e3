import { createHash } from "node:crypto";
import type { ComputeTarget, DeploymentSpec, RolloutState } from "./compute-target.js";
import { cpuMillicores, memoryBytes } from "./quantities.js";

/**
 * The reservation as the replica's own limits, as on AKS where the reservation is also the pod's
 * limit: memory (the scoring server sets it on itself before it loads the driver, and the runtime
 * bounds the replica's control group where it may make one) and CPU (its control group's quota).
 */
function limitsOf(spec: DeploymentSpec): Record<string, string> {
  const { memory, cpu } = spec.containerResourceReservation ?? {};
  const bytes = memory ? memoryBytes(memory) : undefined;
  const millicores = cpu ? cpuMillicores(cpu) : undefined;
  return {
    ...(bytes ? { AML_LIMIT_MEMORY_BYTES: String(bytes) } : {}),
    ...(millicores ? { AML_LIMIT_CPU_MILLICORES: String(millicores) } : {}),
  };
}

const hash = (key: string) => createHash("sha256").update(key).digest("hex");

/**
 * The local runtime as a compute target, through its control API (the local twin of the
 * Kubernetes API): desired state per service, keys sent only as SHA-256 hashes.
 */
export class LocalComputeTarget implements ComputeTarget {
  constructor(private readonly options: { controlUrl: string; controlToken: string; scoringBaseUrl: string; ociLayoutDir: string }) {}

  scoringUri(targetName: string): string {
    return `${this.options.scoringBaseUrl.replace(/\/$/, "")}/api/v1/service/${targetName}/score`;
  }

  async deploy(spec: DeploymentSpec): Promise<void> {
    await this.#call("PUT", `/v1/services/${spec.targetName}`, {
      deploymentId: spec.deploymentId,
      image: { layout: this.options.ociLayoutDir, digest: spec.image.digest },
      replicas: spec.replicas,
      autoscaler: spec.autoscaler,
      maxConcurrentRequestsPerContainer: spec.maxConcurrentRequestsPerContainer,
      keyHashes: [hash(spec.keys.primary), hash(spec.keys.secondary)],
      env: { ...spec.env, ...limitsOf(spec) },
      dataCollection: spec.dataCollection,
    });
  }

  async rolloutState(targetName: string, deploymentId: string): Promise<RolloutState> {
    const status = (await this.#call("GET", `/v1/services/${targetName}`)) as
      { deploymentId?: string; rollout?: { deploymentId: string; state: RolloutState["state"]; error?: string } } | undefined;
    if (!status) return { state: "Failed", error: "The local runtime does not know the service (was it deleted?)." };
    if (status.rollout?.deploymentId === deploymentId)
      return { state: status.rollout.state, ...(status.rollout.error ? { error: status.rollout.error } : {}) };
    if (status.deploymentId === deploymentId) return { state: "Succeeded" };
    return { state: "Failed", error: "Another deployment of the service replaced this one." };
  }

  async abandon(targetName: string, deploymentId: string, why: string): Promise<RolloutState> {
    const state = (await this.#call("POST", `/v1/services/${targetName}/abandon`, { deploymentId, reason: why })) as
      RolloutState | undefined;
    return state ?? { state: "Failed", error: "The local runtime does not know the service (was it deleted?)." };
  }

  async updateKeys(targetName: string, keys: { primary: string; secondary: string }): Promise<void> {
    await this.#call("PUT", `/v1/services/${targetName}/keys`, { keyHashes: [hash(keys.primary), hash(keys.secondary)] });
  }

  async delete(targetName: string): Promise<void> {
    await this.#call("DELETE", `/v1/services/${targetName}`);
  }

  async logs(targetName: string, tail: number): Promise<string> {
    const res = await fetch(`${this.options.controlUrl}/v1/services/${targetName}/logs?tail=${tail}`, {
      headers: { authorization: `Bearer ${this.options.controlToken}` },
    });
    return res.ok ? res.text() : "";
  }

  /** A control API call; undefined for a 404 (the service is not there). */
  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.options.controlUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.controlToken}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 404) return undefined;
    const text = await res.text();
    if (!res.ok) throw new Error(`The local runtime answered ${res.status} to ${method} ${path}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}
