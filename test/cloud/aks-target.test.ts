import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { AksComputeTarget, FIELD_MANAGER } from "../../shared/compute/aks/aks-compute-target.js";
import { serviceObjects } from "../../shared/compute/aks/kube-objects.js";
import type { DeploymentSpec, RolloutState } from "../../shared/compute/compute-target.js";
import { FakeKubeApiServer, INGRESS_IP } from "../support/fake-kube-apiserver.js";

const TOKEN = "fake-cluster-token";
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
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

async function settle(name: string, deploymentId: string): Promise<RolloutState> {
  for (let i = 0; i < 100; i++) {
    const state = await target.rolloutState(name, deploymentId);
    if (state.state !== "InProgress") return state;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the rollout never settled");
}

beforeAll(async () => {
  fake = await new FakeKubeApiServer().start(TOKEN);
  target = new AksComputeTarget({
    access: async () => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "aks", server: fake.url, skipTLSVerify: true }] /* the client allows plain http only so */,
        users: [{ name: "mm", token: TOKEN }],
        contexts: [{ name: "aks", cluster: "aks", user: "mm" }],
        currentContext: "aks",
      });
      return kc;
    },
  });
});

afterAll(async () => {
  await fake?.stop();
});

describe("the AKS compute target against a fake Kubernetes API server", () => {
  it("applies every object by server-side apply under its field manager, and reports the scoring URL from the ingress", async () => {
    const s = spec("iris-aaaaaa", "d1", "mmacr.azurecr.io/default/iris:1", {
      autoscaler: { minReplicas: 1, maxReplicas: 4, targetUtilization: 70, refreshPeriodInSeconds: 1 },
    });
    await target.deploy(s);
    const patches = fake.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.path)).toEqual([
      "/api/v1/namespaces/mm-aaaaaa",
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
    expect(stored.spec).toEqual((serviceObjects(s)[2] as V1Deployment).spec);
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
    expect(fake.get("secrets", "mm-dddddd", "keys-dddddd-keys")).toBeUndefined();
    expect(fake.get("namespaces", undefined, "mm-dddddd")).toBeDefined();
    await target.delete("keys-dddddd");
    expect((await target.rolloutState("keys-dddddd", "d1")).error).toContain("has no Deployment");
  });

  it("sends the cluster token on every call", () => {
    expect(fake.requests.length).toBeGreaterThan(10);
    expect(fake.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
