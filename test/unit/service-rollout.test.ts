import { describe, expect, it } from "vitest";
import { Operations } from "../../shared/operations/operations.js";
import { serviceRolloutKind, verdictGraceMs } from "../../shared/operations/service-rollout.js";
import type { ComputeTarget, DeploymentSpec, RolloutState } from "../../shared/compute/compute-target.js";
import type {
  DeploymentDocument,
  ImageDocument,
  ManifestDocument,
  ModelDocument,
  OperationDocument,
  ServiceDocument,
  StoredDocument,
} from "../../shared/store/documents.js";
import { MemoryOperationStore } from "../support/memory-operation-store.js";

const PK = "subscriptions/s/resourceGroups/g/accounts/a";
const NOW = "2030-01-01T00:00:00.000Z";

/** A compute target whose rollouts end as the test says (the real ones have their own contract suite). */
class ScriptedTarget implements ComputeTarget {
  readonly deployed: DeploymentSpec[] = [];
  constructor(private readonly outcome: RolloutState) {}
  scoringUri(name: string): string {
    return `http://scoring/${name}/score`;
  }
  async deploy(spec: DeploymentSpec): Promise<void> {
    this.deployed.push(spec);
  }
  async rolloutState(): Promise<RolloutState> {
    return this.outcome;
  }
  readonly abandoned: { deploymentId: string; why: string; at: number }[] = [];
  async abandon(_name: string, deploymentId: string, why: string): Promise<RolloutState> {
    this.abandoned.push({ deploymentId, why, at: Date.now() });
    return { state: "Failed", error: `${why}; rolled back to the previous deployment.` };
  }
  async updateKeys(): Promise<void> {}
  async delete(): Promise<void> {}
  async logs(): Promise<string> {
    return "";
  }
}

const image = (id: string): ImageDocument => ({
  id,
  pk: PK,
  kind: "image",
  name: "iris",
  version: 1,
  computeResourceId: "local",
  imageType: "Docker",
  manifestId: "m1",
  manifestName: "iris",
  createdTime: NOW,
  creationState: "Succeeded",
  operationId: "o",
  imageLocation: `oci:/x:${id}`,
  digest: `sha256:${"a".repeat(64)}`,
});
const manifest: ManifestDocument = {
  id: "m1",
  pk: PK,
  kind: "manifest",
  name: "iris",
  version: 1,
  driverProgram: "score.py",
  assets: [],
  modelIds: ["model-1"],
  modelType: "Registered",
  targetRuntime: { runtimeType: "Python", properties: {} },
  webserviceType: "Realtime",
  createdTime: NOW,
};
const model: ModelDocument = {
  id: "model-1",
  pk: PK,
  kind: "model",
  name: "iris-model",
  version: 3,
  mimeType: "application/octet-stream",
  url: "https://x/model.pkl",
  createdAt: NOW,
};

/** A service with (or without) a deployment that serves, and a new deployment to roll out. */
function setUp(outcome: RolloutState, options: { serving: boolean; timeoutMs?: number }) {
  const store = new MemoryOperationStore();
  const target = new ScriptedTarget(outcome);
  const get = <T extends StoredDocument>(id: string) => store.read<T>(PK, id);
  const kind = serviceRolloutKind({
    services: { get: async (_pk, id) => get<ServiceDocument>(id), getDeployment: async (_pk, id) => get<DeploymentDocument>(id) },
    images: { get: async (_pk, id) => get<ImageDocument>(id) },
    manifests: { get: async (_pk, id) => get<ManifestDocument>(id) },
    models: { get: async (_pk, id) => get<ModelDocument>(id) },
    computeFor: (id) => (id === "local" ? target : undefined),
    secrets: { open: (sealed) => `open(${sealed})` },
    rolloutTimeoutMs: options.timeoutMs ?? 5_000,
    queue: { send: async () => undefined },
  });
  const operations = new Operations({ store, kinds: [kind], heartbeatMs: 60_000, stallMs: 60_000, deadlineMs: 600_000 });
  for (const doc of [image("img-old"), image("img-new"), manifest, model]) store.put(doc);
  const deployment = (id: string, imageId: string): DeploymentDocument => ({
    id,
    pk: PK,
    kind: "deployment",
    serviceId: "svc",
    serviceName: "iris",
    imageId,
    status: "Succeeded",
    createdAt: NOW,
    settings: { imageId, numReplicas: imageId === "img-new" ? 3 : 1 },
  });
  if (options.serving) store.put(deployment("dep-old", "img-old"));
  store.put({ ...deployment("dep-new", "img-new"), status: "NotStarted" });
  const service: ServiceDocument = {
    id: "svc",
    pk: PK,
    kind: "service",
    name: "iris",
    imageId: options.serving ? "img-old" : "img-new",
    numReplicas: 1,
    computeResource: { id: "local", type: "Cluster" },
    manifestId: "m1",
    manifestName: "iris",
    modelIds: [],
    modelNames: [],
    createdAt: NOW,
    updatedAt: NOW,
    state: options.serving ? "Succeeded" : "NotStarted",
    keys: { primary: "p", secondary: "s" },
    ...(options.serving ? { currentDeploymentId: "dep-old" } : {}),
    operationId: "op",
    targetName: "iris-abc",
    scoringUri: "http://scoring/iris-abc/score",
  };
  store.put(service);
  const op = { ...Operations.create("Service", PK, { id: "svc", path: "/svc" }, { deploymentId: "dep-new" }), id: "op" };
  store.put(op);
  return { store, target, run: () => operations.execute("Service", { operationId: "op", accountPath: PK }, () => undefined), get };
}

describe("service rollouts (the operation kind)", () => {
  it("deploys the new deployment's settings and image, then puts the service on it and expires the one it replaces", async () => {
    const t = setUp({ state: "Succeeded" }, { serving: true });
    await t.run();
    expect(t.target.deployed).toHaveLength(1);
    expect(t.target.deployed[0]).toMatchObject({
      targetName: "iris-abc",
      deploymentId: "dep-new",
      replicas: 3,
      keys: { primary: "open(p)", secondary: "open(s)" },
      image: { digest: `sha256:${"a".repeat(64)}` },
    });
    expect(t.get<OperationDocument>("op")!.state).toBe("Succeeded");
    expect(t.get<ServiceDocument>("svc")).toMatchObject({
      state: "Succeeded",
      imageId: "img-new",
      numReplicas: 3,
      currentDeploymentId: "dep-new",
      modelIds: ["model-1"],
      modelNames: ["iris-model"],
    });
    expect(t.get<DeploymentDocument>("dep-new")).toMatchObject({ status: "Succeeded" });
    expect(t.get<DeploymentDocument>("dep-new")!.expiredAt).toBeUndefined();
    expect(t.get<DeploymentDocument>("dep-old")!.expiredAt).toBe(t.get<OperationDocument>("op")!.endTime);
  });

  it("keeps a serving service on its deployment when an update fails, showing the error", async () => {
    const t = setUp({ state: "Failed", error: "init() failed: ValueError" }, { serving: true });
    await t.run();
    const op = t.get<OperationDocument>("op")!;
    expect(op).toMatchObject({
      state: "Failed",
      error: { code: "DeploymentFailed", message: "The deployment did not become healthy and was rolled back: init() failed: ValueError" },
    });
    expect(t.get<ServiceDocument>("svc")).toMatchObject({
      state: "Succeeded",
      imageId: "img-old",
      currentDeploymentId: "dep-old",
      error: { code: "DeploymentFailed" },
    });
    expect(t.get<DeploymentDocument>("dep-new")).toMatchObject({ status: "Failed", expiredAt: op.endTime });
    expect(t.get<DeploymentDocument>("dep-old")!.expiredAt).toBeUndefined();
  });

  it("waits past its own timeout for the target's verdict, then abandons the rollout, which goes back to what served", async () => {
    const t = setUp({ state: "InProgress" }, { serving: true, timeoutMs: 300 });
    const started = Date.now();
    await t.run();
    // The target's own deadline is the same 300 ms: the runner gives its controller time to say so.
    expect(t.target.abandoned).toHaveLength(1);
    expect(t.target.abandoned[0]!.at - started).toBeGreaterThanOrEqual(300 + verdictGraceMs(300));
    expect(t.target.abandoned[0]).toMatchObject({ deploymentId: "dep-new", why: "the deployment did not become healthy within 0.3 s" });
    const op = t.get<OperationDocument>("op")!;
    expect(op).toMatchObject({
      state: "Failed",
      error: {
        code: "DeploymentTimedOut",
        message: "The deployment timed out: the deployment did not become healthy within 0.3 s; rolled back to the previous deployment.",
      },
    });
    expect(t.get<ServiceDocument>("svc")).toMatchObject({ state: "Succeeded", currentDeploymentId: "dep-old" });
  });

  it("leaves a service whose first deployment failed Failed", async () => {
    const t = setUp({ state: "Failed", error: "crash loop" }, { serving: false });
    await t.run();
    expect(t.get<ServiceDocument>("svc")).toMatchObject({ state: "Failed", error: { code: "DeploymentFailed" } });
    expect(t.get<ServiceDocument>("svc")!.currentDeploymentId).toBeUndefined();
  });

  it("fails without deploying when the service was deleted before the rollout ran", async () => {
    const t = setUp({ state: "Succeeded" }, { serving: true });
    t.store.remove(PK, "svc");
    await t.run();
    expect(t.get<OperationDocument>("op")).toMatchObject({ state: "Failed", error: { code: "ServiceNotFound" } });
    expect(t.target.deployed).toEqual([]);
  });
});
