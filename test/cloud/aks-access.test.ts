import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { AKS_ENTRA_SERVER_APP, aksAccess } from "../../shared/compute/aks/aks-access.js";
import { ArmManagedNamespaces } from "../../shared/compute/aks/account-namespaces.js";
import { isAksClusterId, parseClusterId } from "../../shared/compute/aks/cluster-id.js";
import { AKS_TOKEN, CLUSTER_ID, FakeAks } from "../support/fake-aks.js";
import { fakeArm, fakeCredential } from "../support/fake-arm.js";

let aks: FakeAks;

beforeAll(async () => {
  aks = await new FakeAks().start();
});
afterAll(async () => {
  await aks?.stop();
});

describe("reaching an AKS cluster through ARM with the app's identity", () => {
  it("reads the cluster's credentials with listClusterUserCredential and signs in with an Entra ID token instead of kubelogin", async () => {
    const target = aks.target({}, { viaArm: true });
    await target.deploy({
      targetName: "iris-eeeeee",
      deploymentId: "d1",
      image: { location: "mmacr.azurecr.io/x/iris:1", digest: `sha256:${"c".repeat(64)}` },
      replicas: 1,
      maxConcurrentRequestsPerContainer: 5,
      keys: { primary: "p", secondary: "s" },
      env: {},
    });

    const credentials = aks.arm.calls.filter((c) => c.url.pathname.endsWith("/listClusterUserCredential"));
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.method).toBe("POST");
    expect(credentials[0]!.url.searchParams.get("format")).toBe("exec");
    expect(credentials[0]!.url.searchParams.get("api-version")).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(aks.arm.calls.every((c) => /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(c.authorization ?? ""))).toBe(true);
    expect(aks.credential.scopes).toContain(`${AKS_ENTRA_SERVER_APP}/.default`);
    expect(aks.kube.requests.length).toBeGreaterThan(0);
    expect(aks.kube.requests.every((r) => r.authorization === `Bearer ${AKS_TOKEN}`)).toBe(true);
  });

  it("says what is wrong when ARM answers no, and tells cluster ids from other names", async () => {
    const arm = fakeArm({});
    const credential = fakeCredential({ "https://management.azure.com/.default": "arm-token" });
    const target = new AksComputeTarget({
      access: aksAccess(CLUSTER_ID, credential, { httpClient: arm }),
      namespaces: new ArmManagedNamespaces({
        clusterId: CLUSTER_ID,
        credential,
        namespaceRoleId: "unused",
        clientOptions: { httpClient: arm },
      }),
    });
    await expect(target.logs("iris-eeeeee", 10)).rejects.toThrow(/not found/i);
    expect(isAksClusterId(CLUSTER_ID)).toBe(true);
    expect(isAksClusterId("local")).toBe(false);
    expect(parseClusterId(CLUSTER_ID)).toEqual({
      subscriptionId: "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10",
      resourceGroup: "ml-rg",
      name: "mm-aks",
    });
    expect(() => parseClusterId("/subscriptions/1/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v")).toThrow(
      "is not an AKS cluster's resource id",
    );
  });
});
