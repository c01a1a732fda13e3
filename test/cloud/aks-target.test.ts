import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIELD_MANAGER, type AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { DEFAULT_AKS_SETTINGS, serviceObjects } from "../../shared/compute/aks/kube-objects.js";
import { awaitRollout } from "../../shared/operations/service-rollout.js";
import { OperationFailure } from "../../shared/operations/operation-kind.js";
import { keysOfFieldsV1 } from "../support/fake-kube-fields.js";
import type { DeploymentSpec, RolloutState } from "../../shared/compute/compute-target.js";
import { INGRESS_IP, type FakeKubeApiServer } from "../support/fake-kube-apiserver.js";
import { AKS_TOKEN, FakeAks } from "../support/fake-aks.js";

const TOKEN = AKS_TOKEN;
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
let aks: FakeAks;
let fake: FakeKubeApiServer;
let target: AksComputeTarget;

function spec(
  targetName: string,
  deploymentId: string,
  image = "mmacr.azurecr.io/default/iris:1",
  extra: Partial<DeploymentSpec> = {},
): DeploymentSpec {
  return {
    targetName,
    deploymentId,
    image: { location: image, digest: digest(deploymentId.length) },
    replicas: 2,
    maxConcurrentRequestsPerContainer: 5,
    keys: { primary: "primary-1", secondary: "secondary-1" },
    env: { AML_APP_INSIGHTS_ENABLED: "false" },
    ...extra,
  };
}

/** The field managers that own `spec.<field>` of an object. */
function ownersOf(
  object: { metadata: { managedFields?: { manager: string; fieldsV1: Record<string, unknown> }[] } },
  field: string,
): string[] {
  return (object.metadata.managedFields ?? [])
    .filter((e) => keysOfFieldsV1(e.fieldsV1).includes(`spec\u0000${field}`))
    .map((e) => e.manager);
}

async function settle(name: string, deploymentId: string): Promise<RolloutState> {
  for (let i = 0; i < 100; i++) {
    const state = await target.rolloutState(name, deploymentId);
    if (state.state !== "InProgress") return state;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the rollout never settled");
}

beforeAll(async () => {
  aks = await new FakeAks().start();
  fake = aks.kube;
  // Progress deadlines of 5 s that last 0.1 s here.
  fake.msPerSecond = 20;
  target = targetWith(5);
});

/** The AKS target on the fake cluster, its Deployments with this progress deadline. */
function targetWith(progressDeadlineSeconds: number): AksComputeTarget {
  return aks.target({ progressDeadlineSeconds });
}

afterAll(async () => {
  await aks?.stop();
});

describe("the AKS compute target against a fake Kubernetes API server", () => {
  it("applies every object by server-side apply under its field manager, and reports the scoring URL from the ingress", async () => {
    const s = spec("iris-aaaaaa", "d1", "mmacr.azurecr.io/default/iris:1", {
      autoscaler: { minReplicas: 1, maxReplicas: 4, targetUtilization: 70, refreshPeriodInSeconds: 1 },
    });
    await target.deploy(s);
    const patches = fake.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.path)).toEqual([
      "/apis/networking.k8s.io/v1/namespaces/mm-aaaaaa/networkpolicies/iris-aaaaaa-network",
      "/api/v1/namespaces/mm-aaaaaa/secrets/iris-aaaaaa-keys",
      "/apis/apps/v1/namespaces/mm-aaaaaa/deployments/iris-aaaaaa",
      "/api/v1/namespaces/mm-aaaaaa/services/iris-aaaaaa",
      "/apis/networking.k8s.io/v1/namespaces/mm-aaaaaa/ingresses/iris-aaaaaa",
      "/apis/autoscaling/v2/namespaces/mm-aaaaaa/horizontalpodautoscalers/iris-aaaaaa",
    ]);
    for (const p of patches) {
      expect(p.contentType).toBe("application/apply-patch+yaml");
      expect(p.query).toMatchObject({ fieldManager: FIELD_MANAGER, force: "true" });
    }
    const stored = fake.get("deployments", "mm-aaaaaa", "iris-aaaaaa")!;
    // Everything applied, and the replica count the autoscaler owns (the API server's default, here).
    expect(stored.spec).toEqual({
      ...(serviceObjects(s, { ...DEFAULT_AKS_SETTINGS, progressDeadlineSeconds: 5 })[2] as V1Deployment).spec,
      replicas: 1,
    });
    expect(ownersOf(stored, "replicas")).not.toContain(FIELD_MANAGER);
    expect(await settle("iris-aaaaaa", "d1")).toEqual({
      state: "Succeeded",
      scoringUri: `http://${INGRESS_IP}/api/v1/service/iris-aaaaaa/score`,
    });
  });

  it("rolls an update out, and rolls a broken one back to the template that served", async () => {
    await target.deploy(spec("wine-bbbbbb", "d1"));
    expect((await settle("wine-bbbbbb", "d1")).state).toBe("Succeeded");
    await target.deploy(spec("wine-bbbbbb", "d2", "mmacr.azurecr.io/default/wine:2"));
    expect((await settle("wine-bbbbbb", "d2")).state).toBe("Succeeded");
    const good = fake.get("deployments", "mm-bbbbbb", "wine-bbbbbb")!.spec!.template;

    await target.deploy(spec("wine-bbbbbb", "d3-broken", "mmacr.azurecr.io/default/wine-broken:3"));
    const failed = await settle("wine-bbbbbb", "d3-broken");
    expect(failed.state).toBe("Failed");
    expect(failed.error).toMatch(/did not become ready .* rolled back to the previous deployment\.$/);
    const after = fake.get("deployments", "mm-bbbbbb", "wine-bbbbbb")!;
    expect(after.spec!.template).toEqual(good);
    // The rolled-back template rolls out again, and the failed deployment stays failed.
    expect((await settle("wine-bbbbbb", "d2")).state).toBe("Succeeded");
    expect((await target.rolloutState("wine-bbbbbb", "d3-broken")).error).toBe("Another deployment of the service replaced this one.");
  });

  it("fails a first deployment that never becomes ready, with nothing to go back to", async () => {
    await target.deploy(spec("bad-cccccc", "d1", "mmacr.azurecr.io/default/broken:1"));
    const failed = await settle("bad-cccccc", "d1");
    expect(failed).toMatchObject({ state: "Failed" });
    expect(failed.error).toContain("there was no earlier deployment to go back to");
  });

  it("replaces the keys in their Secret, reads the pods' logs, and deletes every object but the account's namespace", async () => {
    await target.deploy(spec("keys-dddddd", "d1"));
    await settle("keys-dddddd", "d1");
    await target.updateKeys("keys-dddddd", { primary: "primary-2", secondary: "secondary-2" });
    const secret = fake.get("secrets", "mm-dddddd", "keys-dddddd-keys")!;
    expect(Buffer.from(secret.data!.primaryKey!, "base64").toString()).toBe("primary-2");

    const logs = await target.logs("keys-dddddd", 2);
    const lines = logs.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => /^\[keys-dddddd-[0-9a-f]{10}-\d\] /.test(l))).toBe(true);
    expect(logs).toContain("driver ready");
    expect(fake.requests.some((r) => r.path.endsWith("/log") && r.query.tailLines === "2" && r.query.container === "scoring")).toBe(true);

    await target.delete("keys-dddddd");
    for (const plural of ["deployments", "services", "ingresses", "horizontalpodautoscalers"])
      expect(fake.get(plural, "mm-dddddd", "keys-dddddd")).toBeUndefined();
    expect(fake.get("networkpolicies", "mm-dddddd", "keys-dddddd-network")).toBeUndefined();
    expect(fake.get("secrets", "mm-dddddd", "keys-dddddd-keys")).toBeUndefined();
    expect(fake.get("namespaces", undefined, "mm-dddddd")).toBeDefined();
    await target.delete("keys-dddddd");
    expect((await target.rolloutState("keys-dddddd", "d1")).error).toContain("has no Deployment");
  });

  it("leaves the replica count to the autoscaler through a toggle on, a rollback and an update, and takes it back on a toggle off", async () => {
    const autoscaler = { minReplicas: 1, maxReplicas: 6, targetUtilization: 70, refreshPeriodInSeconds: 1 };
    const replicas = () => fake.replicaHistory.get("mm-eeeeee/scale-eeeeee");
    await target.deploy(spec("scale-eeeeee", "d1"));
    expect((await settle("scale-eeeeee", "d1")).state).toBe("Succeeded");
    expect(replicas()).toEqual([2]);

    fake.autoscaledReplicas = 4; // the load the HPA sees
    await target.deploy(spec("scale-eeeeee", "d2", "mmacr.azurecr.io/default/scale:2", { autoscaler }));
    expect((await settle("scale-eeeeee", "d2")).state).toBe("Succeeded");
    await target.deploy(spec("scale-eeeeee", "d3", "mmacr.azurecr.io/default/scale-broken:3", { autoscaler }));
    expect((await settle("scale-eeeeee", "d3")).error).toMatch(/rolled back to the previous deployment/);
    await target.deploy(spec("scale-eeeeee", "d4", "mmacr.azurecr.io/default/scale:4", { autoscaler }));
    expect((await settle("scale-eeeeee", "d4")).state).toBe("Succeeded");
    // Never reset to the API server's default of 1, nor to what we once applied.
    expect(replicas()).toEqual([2, 4]);
    expect(ownersOf(fake.get("deployments", "mm-eeeeee", "scale-eeeeee")!, "replicas")).toEqual(["kube-controller-manager"]);

    await target.deploy(spec("scale-eeeeee", "d5", "mmacr.azurecr.io/default/scale:5", { replicas: 3 }));
    expect((await settle("scale-eeeeee", "d5")).state).toBe("Succeeded");
    expect(fake.get("horizontalpodautoscalers", "mm-eeeeee", "scale-eeeeee")).toBeUndefined();
    expect(replicas()).toEqual([2, 4, 3]);
    expect(ownersOf(fake.get("deployments", "mm-eeeeee", "scale-eeeeee")!, "replicas")).toEqual([FIELD_MANAGER]);
    fake.autoscaledReplicas = undefined;
  });

  it("is refused a field another manager owns unless it forces the apply (the fake keeps server-side apply's rules)", async () => {
    await target.deploy(spec("own-ffffff", "d1"));
    const res = await fetch(`${fake.url}/apis/apps/v1/namespaces/mm-ffffff/deployments/own-ffffff?fieldManager=kubectl`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/apply-patch+yaml" },
      body: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "own-ffffff" }, spec: { replicas: 7 } }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toBe(
      `Apply failed with 1 conflict: conflict with "${FIELD_MANAGER}" using apps/v1: .spec.replicas`,
    );
    expect(fake.get("deployments", "mm-ffffff", "own-ffffff")!.spec!.replicas).toBe(2);
  });

  it("waits past the Deployment's progress deadline for the controller's verdict, and rolls back", async () => {
    const fast = targetWith(1);
    const msPerSecond = fake.msPerSecond;
    fake.msPerSecond = 1000; // the deadline lasts as long as the runner's own timeout
    try {
      await fast.deploy(spec("late-a0a0a0", "d1"));
      expect(await awaitRollout(fast, "late-a0a0a0", "d1", 1000)).toBe(`http://${INGRESS_IP}/api/v1/service/late-a0a0a0/score`);
      const good = fake.get("deployments", "mm-a0a0a0", "late-a0a0a0")!.spec!.template;
      await fast.deploy(spec("late-a0a0a0", "d2", "mmacr.azurecr.io/default/late-broken:2"));
      const failure = await awaitRollout(fast, "late-a0a0a0", "d2", 1000).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(OperationFailure);
      expect(failure).toMatchObject({ code: "DeploymentFailed" });
      expect((failure as Error).message).toMatch(/ProgressDeadlineExceeded|timed out progressing/);
      expect(fake.get("deployments", "mm-a0a0a0", "late-a0a0a0")!.spec!.template).toEqual(good);
    } finally {
      fake.msPerSecond = msPerSecond;
    }
  });

  it("rolls back on its own deadline when the controller never gives a verdict", async () => {
    const fast = targetWith(1);
    await fast.deploy(spec("mute-b0b0b0", "d1"));
    await awaitRollout(fast, "mute-b0b0b0", "d1", 1000);
    const good = fake.get("deployments", "mm-b0b0b0", "mute-b0b0b0")!.spec!.template;
    fake.controllerPaused = true;
    try {
      await fast.deploy(spec("mute-b0b0b0", "d2", "mmacr.azurecr.io/default/mute:2"));
      const failure = await awaitRollout(fast, "mute-b0b0b0", "d2", 1000).catch((err: unknown) => err);
      expect(failure).toMatchObject({
        code: "DeploymentTimedOut",
        message: "The deployment timed out: the deployment did not become healthy within 1 s; rolled back to the previous deployment.",
      });
      expect(fake.get("deployments", "mm-b0b0b0", "mute-b0b0b0")!.spec!.template).toEqual(good);
    } finally {
      fake.controllerPaused = false;
    }
  });

  it("sends the cluster token on every call", () => {
    expect(fake.requests.length).toBeGreaterThan(10);
    expect(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
