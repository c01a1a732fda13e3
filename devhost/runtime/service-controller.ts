import { randomUUID } from "node:crypto";
import type { DataCollectionTarget } from "../../shared/compute/compute-target.js";
import { Replica } from "./replica.js";
import type { HandoffOptions } from "./replica-channel.js";
import { ImageUnpacker } from "./image-unpacker.js";
import type { DataCollector } from "./data-collector.js";
import type { ServiceEnvironments } from "./service-environments.js";
import type { Sandbox } from "./sandbox.js";
import type { ReplicaLimitSource } from "./replica.js";

interface AutoscalerSpec {
  minReplicas: number;
  maxReplicas: number;
  targetUtilization: number;
  refreshPeriodInSeconds: number;
}

/** What a service should be: the control API's PUT body (keys only as SHA-256 hashes). */
export interface ServiceSpec {
  name: string;
  deploymentId: string;
  image: { layout: string; digest: string };
  replicas: number;
  autoscaler?: AutoscalerSpec;
  maxConcurrentRequestsPerContainer: number;
  keyHashes: string[];
  env: Record<string, string>;
  dataCollection?: DataCollectionTarget;
}

interface RolloutStatus {
  deploymentId: string;
  state: "InProgress" | "Succeeded" | "Failed";
  error?: string;
}

interface Deployment {
  deploymentId: string;
  digest: string;
  rootfs: string;
  /** The interpreter its replicas run on, and how it was chosen (for their logs). */
  python: { python: string; notes: string[] };
  replicas: Replica[];
}

export interface ControllerDeps {
  unpacker: ImageUnpacker;
  /** What confines each replica to its own files. */
  sandbox: Sandbox;
  /** What bounds each replica's CPU, processes and memory. */
  limits: ReplicaLimitSource;
  environments: ServiceEnvironments;
  /** A scoring request's deadline: a replica whose run() outlives it reports itself stuck (not Healthy). */
  requestTimeoutMs: number;
  /** Where model data goes, when the stack has storage for it. */
  collector?: DataCollector;
  /** The controller changed its own spec (a failed rollout goes back to the one that serves): keep it. */
  specChanged?: () => void;
  /** Where connections a replica hands back go (the gateway's router); without it, no connection is handed to replicas. */
  connectionReturned?: HandoffOptions["returned"];
}

/** How long new replicas get to become healthy before a rollout is rolled back. */
const ROLLOUT_TIMEOUT_MS = Number(process.env.RUNTIME_ROLLOUT_TIMEOUT_MS ?? 120_000);

/**
 * One service on the local runtime, the local twin of a Kubernetes Deployment: replicas of the
 * active deployment take traffic; a new deployment's replicas start beside them and take over
 * only once all are healthy (the old ones then drain and stop), or are stopped if they fail,
 * leaving the old deployment serving. Replica counts follow the autoscaler when there is one.
 */
export class ServiceController {
  spec: ServiceSpec;
  active: Deployment | undefined;
  rollout: RolloutStatus | undefined;
  #next = 0;
  #nextConnection = 0;
  #rolling: Promise<void> = Promise.resolve();
  #scaler: NodeJS.Timeout | undefined;
  #utilisation: number[] = [];
  #sampler: NodeJS.Timeout | undefined;
  #deleted = false;
  /** The spec the active replicas run: what a failed rollout goes back to. */
  #activeSpec: ServiceSpec | undefined;
  /** A rollout the API gave up on, and why: its loop stops at its next look. */
  #abandoned: { deploymentId: string; why: string } | undefined;

  constructor(
    spec: ServiceSpec,
    private readonly deps: ControllerDeps,
  ) {
    this.spec = spec;
  }

  /** Applies a new spec: a new deploymentId rolls out; otherwise keys, limits and counts change in place. */
  apply(spec: ServiceSpec): void {
    const previous = this.spec;
    this.spec = spec;
    if (previous.keyHashes.join() !== spec.keyHashes.join()) void this.#pushKeys();
    this.#configureAutoscaler();
    if (!this.active || spec.deploymentId !== this.active.deploymentId || spec.image.digest !== this.active.digest) {
      if (
        this.rollout?.deploymentId === spec.deploymentId &&
        this.rollout.state !== "Failed" &&
        previous.image.digest === spec.image.digest
      )
        return;
      this.rollout = { deploymentId: spec.deploymentId, state: "InProgress" };
      this.#rolling = this.#rolling.then(() => this.#rollout(spec));
      return;
    }
    this.#activeSpec = spec;
    this.#rolling = this.#rolling.then(() => this.#scaleTo(this.#wantedReplicas()));
  }

  /**
   * Takes the service's new keys: the gateway checks them from now on, and the replicas that hold
   * handed connections once they have them (the promise waits for that, boundedly).
   */
  async setKeys(keyHashes: string[]): Promise<void> {
    this.spec = { ...this.spec, keyHashes };
    await this.#pushKeys();
  }

  async #pushKeys(): Promise<void> {
    await Promise.all((this.active?.replicas ?? []).map((r) => r.pushKeys()));
  }

  /** The next replica that takes a client's connection, round-robin; undefined when none does now. */
  pickForConnection(): Replica | undefined {
    const replicas = this.active?.replicas ?? [];
    for (let i = 0; i < replicas.length; i++) {
      const r = replicas[(this.#nextConnection + i) % replicas.length]!;
      if (r.takesConnections) {
        this.#nextConnection = (this.#nextConnection + i + 1) % replicas.length;
        return r;
      }
    }
    return undefined;
  }

  /** The next replica with room for a request, round-robin; undefined when all are busy or none is healthy. */
  pick(): Replica | undefined {
    const replicas = this.active?.replicas ?? [];
    for (let i = 0; i < replicas.length; i++) {
      const r = replicas[(this.#next + i) % replicas.length]!;
      if (r.healthy && r.inFlight < this.spec.maxConcurrentRequestsPerContainer) {
        this.#next = (this.#next + i + 1) % replicas.length;
        return r;
      }
    }
    return undefined;
  }

  /**
   * Stops a rollout that outlived the API's deadline and keeps the deployment that served; what
   * it ended as (it may have succeeded meanwhile, or been replaced).
   */
  async abandon(deploymentId: string, why: string): Promise<RolloutStatus> {
    if (this.rollout?.deploymentId === deploymentId && this.rollout.state === "InProgress") {
      this.#abandoned = { deploymentId, why };
      while (this.rollout?.deploymentId === deploymentId && this.rollout.state === "InProgress")
        await new Promise((r) => setTimeout(r, 50));
    }
    if (this.active?.deploymentId === deploymentId) return { deploymentId, state: "Succeeded" };
    if (this.rollout?.deploymentId === deploymentId) return this.rollout;
    return { deploymentId, state: "Failed", error: "Another deployment of the service replaced this one." };
  }

  healthyReplicas(): number {
    return (this.active?.replicas ?? []).filter((r) => r.healthy).length;
  }

  async delete(): Promise<void> {
    this.#deleted = true;
    if (this.#scaler) clearInterval(this.#scaler);
    if (this.#sampler) clearInterval(this.#sampler);
    await this.#rolling.catch(() => undefined);
    await Promise.all((this.active?.replicas ?? []).map((r) => r.stop(2000)));
    this.active = undefined;
  }

  status() {
    return {
      name: this.spec.name,
      deploymentId: this.active?.deploymentId,
      digest: this.active?.digest,
      replicas: (this.active?.replicas ?? []).map((r) => ({
        id: r.id,
        port: r.port,
        state: r.state,
        restarts: r.restarts,
        inFlight: r.inFlight,
        connectionsTaken: r.connectionsTaken,
        lastError: r.lastError,
      })),
      rollout: this.rollout,
    };
  }

  logs(tail: number): string {
    const lines: string[] = [];
    for (const r of this.active?.replicas ?? []) lines.push(...r.logs.slice(-tail).map((l) => `[${r.id}] ${l}`));
    return lines.join("\n") + (lines.length ? "\n" : "");
  }

  #wantedReplicas(): number {
    const a = this.spec.autoscaler;
    if (!a) return this.spec.replicas;
    const current = this.active?.replicas.length ?? a.minReplicas;
    return Math.min(a.maxReplicas, Math.max(a.minReplicas, current));
  }

  async #startReplicas(rootfs: string, python: Deployment["python"], count: number, deploymentId: string): Promise<Replica[]> {
    // The image's environment first (its driver's name, …), then the deployment's switches.
    const env = {
      ...ImageUnpacker.environment(rootfs),
      ...this.spec.env,
      AML_REQUEST_TIMEOUT_SECONDS: String(Math.max(1, Math.round(this.deps.requestTimeoutMs / 1000))),
      // The bound the gateway keeps for its own requests, kept by the replica for handed connections.
      AML_MAX_CONCURRENT_REQUESTS: String(this.spec.maxConcurrentRequestsPerContainer),
    };
    const returned = this.deps.connectionReturned;
    const handoff: HandoffOptions | undefined = returned
      ? { service: this.spec.name, keyHashes: () => this.spec.keyHashes, returned }
      : undefined;
    const collector = this.deps.collector;
    const onCollected = collector
      ? (record: Parameters<DataCollector["collected"]>[1]) => {
          const target = this.spec.dataCollection;
          if (target) collector.collected(target, record);
        }
      : undefined;
    const replicas = Array.from(
      { length: count },
      () =>
        new Replica(`${this.spec.name}-${deploymentId.slice(0, 8)}-${randomUUID().slice(0, 5)}`, {
          python: python.python,
          sandbox: this.deps.sandbox,
          limits: this.deps.limits,
          rootfs,
          env,
          notes: python.notes,
          ...(onCollected ? { onCollected } : {}),
          ...(handoff ? { handoff } : {}),
          requestTimeoutMs: this.deps.requestTimeoutMs,
        }),
    );
    await Promise.all(replicas.map((r) => r.start()));
    return replicas;
  }

  async #rollout(spec: ServiceSpec): Promise<void> {
    if (this.#deleted) return;
    let fresh: Replica[] = [];
    try {
      const rootfs = await this.deps.unpacker.rootfs(spec.image.layout, spec.image.digest);
      const python = await this.deps.environments.pythonFor(rootfs, ImageUnpacker.environment(rootfs));
      const count = spec.autoscaler ? Math.max(1, this.#wantedReplicas()) : spec.replicas;
      fresh = await this.#startReplicas(rootfs, python, count, spec.deploymentId);
      const deadline = Date.now() + ROLLOUT_TIMEOUT_MS;
      for (;;) {
        if (this.#deleted) throw new Error("the service was deleted");
        if (this.#abandoned?.deploymentId === spec.deploymentId)
          throw new Error(`${this.#abandoned.why}; rolled back to the previous deployment`);
        if (fresh.every((r) => r.healthy)) break;
        const broken = fresh.find((r) => r.initFailed);
        if (broken) throw new Error(`replica ${broken.id}: ${broken.lastError}`);
        const crashing = fresh.find((r) => r.crashLooping);
        if (crashing)
          throw new Error(
            `replica ${crashing.id}: ${crashing.lastError}, ${crashing.restarts} times before it ever became healthy\n${crashing.logs.slice(-15).join("\n")}`,
          );
        if (Date.now() > deadline) {
          const slow = fresh.find((r) => !r.healthy)!;
          throw new Error(
            `replica ${slow.id} did not become healthy within ${ROLLOUT_TIMEOUT_MS / 1000} s (${slow.lastError ?? slow.state})\n${slow.logs.slice(-15).join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const old = this.active;
      this.active = { deploymentId: spec.deploymentId, digest: spec.image.digest, rootfs, python, replicas: fresh };
      this.#activeSpec = spec;
      this.rollout = { deploymentId: spec.deploymentId, state: "Succeeded" };
      // The old replicas take no new requests now; those in flight finish before they stop.
      await Promise.all((old?.replicas ?? []).map((r) => r.stop()));
    } catch (err) {
      await Promise.all(fresh.map((r) => r.stop(0)));
      this.rollout = { deploymentId: spec.deploymentId, state: "Failed", error: err instanceof Error ? err.message : String(err) };
      this.#goBack(spec);
    }
  }

  /**
   * After a failed rollout, the desired state is again the deployment that serves (with the
   * service's current keys): a restart of the runtime must not roll the failed one out again.
   */
  #goBack(failed: ServiceSpec): void {
    if (this.spec.deploymentId !== failed.deploymentId || !this.#activeSpec || this.#deleted) return;
    this.spec = { ...this.#activeSpec, keyHashes: this.spec.keyHashes };
    this.#configureAutoscaler();
    this.deps.specChanged?.();
  }

  async #scaleTo(count: number): Promise<void> {
    const active = this.active;
    if (!active || this.#deleted) return;
    const current = active.replicas.length;
    if (count > current) {
      active.replicas.push(...(await this.#startReplicas(active.rootfs, active.python, count - current, active.deploymentId)));
    } else if (count < current) {
      // Stop the replicas with the least work first; they take no new requests once stopping.
      const victims = [...active.replicas].sort((a, b) => a.inFlight - b.inFlight).slice(0, current - count);
      active.replicas = active.replicas.filter((r) => !victims.includes(r));
      await Promise.all(victims.map((r) => r.stop()));
    }
  }

  /**
   * The autoscaler: every refresh period, utilisation (requests in flight over capacity, averaged
   * over the period) against the target gives the replica count, between min and max.
   */
  #configureAutoscaler(): void {
    if (this.#scaler) clearInterval(this.#scaler);
    if (this.#sampler) clearInterval(this.#sampler);
    this.#scaler = undefined;
    this.#sampler = undefined;
    const a = this.spec.autoscaler;
    if (!a) return;
    this.#sampler = setInterval(() => {
      const replicas = this.active?.replicas ?? [];
      const capacity = replicas.length * this.spec.maxConcurrentRequestsPerContainer;
      const inFlight = replicas.reduce((n, r) => n + r.inFlight + r.handedInFlight, 0) + this.waiting;
      this.#utilisation.push(capacity ? (100 * inFlight) / capacity : inFlight > 0 ? 100 : 0);
    }, 100);
    this.#scaler = setInterval(() => {
      const samples = this.#utilisation;
      this.#utilisation = [];
      if (!this.active || this.rollout?.state === "InProgress" || samples.length === 0) return;
      const utilisation = samples.reduce((x, y) => x + y, 0) / samples.length;
      const current = this.active.replicas.length;
      const wanted = Math.min(
        a.maxReplicas,
        Math.max(a.minReplicas, Math.ceil((Math.max(current, 1) * utilisation) / a.targetUtilization)),
      );
      if (wanted !== current) this.#rolling = this.#rolling.then(() => this.#scaleTo(wanted));
    }, a.refreshPeriodInSeconds * 1000);
  }

  /** Requests waiting for a free replica (counted by the gateway). */
  waiting = 0;
}
