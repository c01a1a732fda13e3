import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArmManagedNamespaces } from "../../shared/compute/aks/account-namespaces.js";
import { loadConfig } from "../../shared/config.js";
import type { DeploymentSpec } from "../../shared/compute/compute-target.js";
import { AKS_TOKEN, APP_PRINCIPAL, CLUSTER_ID, FakeAks } from "../support/fake-aks.js";

let aks: FakeAks;

beforeAll(async () => {
  aks = await new FakeAks().start();
});
afterAll(async () => {
  await aks?.stop();
});

const spec = (targetName: string, deploymentId = "d1"): DeploymentSpec => ({
  targetName,
  deploymentId,
  image: { location: "mmacr.azurecr.io/x/iris:1", digest: `sha256:${"e".repeat(64)}` },
  replicas: 1,
  maxConcurrentRequestsPerContainer: 5,
  keys: { primary: "p", secondary: "s" },
  env: {},
});

/** A request to the cluster as the app, outside what the code does: what Azure RBAC answers. */
async function asTheApp(method: string, path: string, body?: unknown): Promise<{ status: number; message: string }> {
  const res = await fetch(`${aks.kube.url}${path}${method === "PATCH" ? "?fieldManager=probe" : ""}`, {
    method,
    headers: { authorization: `Bearer ${AKS_TOKEN}`, "content-type": "application/apply-patch+yaml" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, message: ((await res.json()) as { message?: string }).message ?? "" };
}

describe("accounts' namespaces on AKS", () => {
  it("are managed namespaces made through ARM, where the app grants itself infra/'s namespace role, and nowhere else", async () => {
    const target = aks.target();
    await target.deploy(spec("iris-a1a1a1"));
    const puts = aks.arm.calls.filter((c) => c.method === "PUT").map((c) => c.url.pathname);
    expect(puts).toEqual([
      `${CLUSTER_ID}/managedNamespaces/mm-a1a1a1`,
      expect.stringMatching(
        new RegExp(`^${CLUSTER_ID}/managedNamespaces/mm-a1a1a1/providers/Microsoft.Authorization/roleAssignments/[0-9a-f-]{36}$`),
      ),
    ]);
    // Every body fit the SDK's models, and the namespace is labelled as ARM's.
    expect(aks.refusedBodies).toEqual([]);
    expect(aks.kube.get("namespaces", undefined, "mm-a1a1a1")!.metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "model-management",
      "kubernetes.azure.com/managedByArm": "true",
    });
    expect([...aks.assignments.values()]).toEqual([
      expect.objectContaining({ principalId: APP_PRINCIPAL, scope: expect.stringMatching(/\/managedNamespaces\/mm-a1a1a1$/) }),
    ]);

    // A second service of the account: the namespace and the grant are there already, and the
    // app (or a fresh instance of it) makes neither again.
    const calls = aks.arm.calls.length;
    await target.deploy(spec("wine-a1a1a1"));
    expect(aks.arm.calls.length).toBe(calls);
    await aks.target().deploy(spec("pear-a1a1a1"));
    expect(aks.arm.calls.filter((c) => c.method === "PUT" && c.url.pathname.endsWith("/managedNamespaces/mm-a1a1a1"))).toHaveLength(1);
    expect(aks.assignments.size).toBe(1);

    // What the app cannot do on the cluster: anything at cluster scope, in kube-system, or in a
    // namespace it never made.
    const secret = (ns: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "probe", namespace: ns } });
    const kubeSystem = await asTheApp("PATCH", "/api/v1/namespaces/kube-system/secrets/probe", secret("kube-system"));
    expect(kubeSystem.status).toBe(403);
    expect(kubeSystem.message).toContain(
      `User "${APP_PRINCIPAL}" cannot patch resource "secrets" in API group "" in the namespace "kube-system"`,
    );
    expect((await asTheApp("GET", "/api/v1/namespaces/kube-system/secrets")).status).toBe(403);
    expect((await asTheApp("GET", "/api/v1/namespaces/mm-b2b2b2/secrets")).status).toBe(403);
    expect(
      (
        await asTheApp("PATCH", "/api/v1/namespaces/kube-system", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "kube-system" },
        })
      ).status,
    ).toBe(403);
    // And what it can: the objects of services, and their pods' logs, in its namespace.
    expect((await asTheApp("GET", "/api/v1/namespaces/mm-a1a1a1/secrets")).status).toBe(200);
    expect((await aks.target().logs("iris-a1a1a1", 5)).length).toBeGreaterThanOrEqual(0);
  });

  it("waits for a new role assignment to reach the cluster, and gives up on a refusal once it had time to", async () => {
    aks.propagationMs = 600;
    try {
      const started = Date.now();
      await aks.target().deploy(spec("slow-c3c3c3"));
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
      expect(aks.kube.get("deployments", "mm-c3c3c3", "slow-c3c3c3")).toBeDefined();
    } finally {
      aks.propagationMs = 0;
    }
    // The assignment is gone (removed by an administrator): past propagation, a 403 is an answer.
    aks.kube.grants.splice(0, aks.kube.grants.length, ...aks.kube.grants.filter((g) => g.namespace !== "mm-c3c3c3"));
    const started = Date.now();
    await expect(aks.target({}, { accessPropagationMs: 0 }).deploy(spec("slow-c3c3c3", "d2"))).rejects.toThrow(/403|forbidden/i);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("never makes a system namespace its own, and takes over only namespaces an earlier version made", async () => {
    const namespaces = new ArmManagedNamespaces({
      clusterId: CLUSTER_ID,
      credential: aks.credential,
      namespaceRoleId: `/subscriptions/6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10/providers/Microsoft.Authorization/roleDefinitions/3d9e2b1c-4a5f-4e6d-8b7a-9c0d1e2f3a4b`,
      clientOptions: { httpClient: aks.arm },
    });
    await expect(namespaces.ensure("kube-system")).rejects.toThrow(/system namespace/);

    // Made through the Kubernetes API by an earlier version: the same labels, adopted.
    aks.kube.objects.set("namespaces//mm-d4d4d4", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "mm-d4d4d4", labels: { "app.kubernetes.io/managed-by": "model-management" } },
    });
    await aks.target().deploy(spec("old-d4d4d4"));
    expect(aks.kube.get("namespaces", undefined, "mm-d4d4d4")!.metadata.labels!["kubernetes.azure.com/managedByArm"]).toBe("true");

    // Someone else's namespace of that name: refused, and nothing is written into it.
    aks.kube.objects.set("namespaces//mm-e5e5e5", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "mm-e5e5e5", labels: { team: "payments" } },
    });
    await expect(aks.target().deploy(spec("new-e5e5e5"))).rejects.toThrow(/adoption policy is IfIdentical/);
    expect(aks.kube.get("deployments", "mm-e5e5e5", "new-e5e5e5")).toBeUndefined();
  });

  it("are set up from the role the Bicep outputs: an AKS target without it is refused at start, saying which setting", () => {
    const settings = {
      COSMOS_ENDPOINT: "https://example.documents.azure.com:443/",
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      AUTH_ISSUER: "https://login.microsoftonline.com/t/v2.0",
      AUTH_AUDIENCE: "api://model-management",
      AUTH_JWKS_URI: "https://login.microsoftonline.com/t/discovery/v2.0/keys",
      COMPUTE_TARGETS: `local,${CLUSTER_ID}`,
    };
    expect(() => loadConfig(settings)).toThrow(/AKS_NAMESPACE_ROLE_ID: required with an AKS compute target/);
    const roleId =
      "/subscriptions/6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10/providers/Microsoft.Authorization/roleDefinitions/3d9e2b1c-4a5f-4e6d-8b7a-9c0d1e2f3a4b";
    expect(loadConfig({ ...settings, AKS_NAMESPACE_ROLE_ID: roleId }).aks.namespaceRoleId).toBe(roleId);
  });
});
