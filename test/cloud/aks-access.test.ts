import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { AKS_ENTRA_SERVER_APP, aksAccess } from "../../shared/compute/aks/aks-access.js";
import { isAksClusterId, parseClusterId } from "../../shared/compute/aks/cluster-id.js";
import { FakeKubeApiServer } from "../support/fake-kube-apiserver.js";
import { fakeArm, fakeCredential } from "../support/fake-arm.js";

const CLUSTER =
  "/subscriptions/6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10/resourceGroups/ml-rg/providers/Microsoft.ContainerService/managedClusters/mm-aks";
let kube: FakeKubeApiServer;

beforeAll(async () => {
  kube = await new FakeKubeApiServer().start("entra-token-for-aks");
});
afterAll(async () => {
  await kube?.stop();
});

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

describe("reaching an AKS cluster through ARM with the app's identity", () => {
  it("reads the cluster's credentials with listClusterUserCredential and signs in with an Entra ID token instead of kubelogin", async () => {
    const arm = fakeArm({
      "POST /subscriptions/6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10/resourceGroups/ml-rg/providers/Microsoft.ContainerService/managedClusters/mm-aks/listClusterUserCredential":
        () => ({
          body: { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(entraKubeconfig(kube.url)).toString("base64") }] },
        }),
    });
    const credential = fakeCredential({
      "https://management.azure.com/.default": "arm-token",
      [`${AKS_ENTRA_SERVER_APP}/.default`]: "entra-token-for-aks",
    });
    const target = new AksComputeTarget({ access: aksAccess(CLUSTER, credential, { httpClient: arm }) });
    await target.deploy({
      targetName: "iris-eeeeee",
      deploymentId: "d1",
      image: { location: "mmacr.azurecr.io/x/iris:1", digest: `sha256:${"c".repeat(64)}` },
      replicas: 1,
      maxConcurrentRequestsPerContainer: 5,
      keys: { primary: "p", secondary: "s" },
      env: {},
    });

    expect(arm.calls).toHaveLength(1);
    expect(arm.calls[0]!.method).toBe("POST");
    expect(arm.calls[0]!.url.searchParams.get("format")).toBe("exec");
    expect(arm.calls[0]!.url.searchParams.get("api-version")).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(arm.calls[0]!.authorization).toBe("Bearer arm-token");
    expect(credential.scopes).toContain(`${AKS_ENTRA_SERVER_APP}/.default`);
    expect(kube.requests.length).toBeGreaterThan(0);
    expect(kube.requests.every((r) => r.authorization === "Bearer entra-token-for-aks")).toBe(true);
  });

  it("says what is wrong when ARM answers no, and tells cluster ids from other names", async () => {
    const arm = fakeArm({});
    const credential = fakeCredential({ "https://management.azure.com/.default": "arm-token" });
    const target = new AksComputeTarget({ access: aksAccess(CLUSTER, credential, { httpClient: arm }) });
    await expect(target.logs("iris-eeeeee", 10)).rejects.toThrow(/not found/i);
    expect(isAksClusterId(CLUSTER)).toBe(true);
    expect(isAksClusterId("local")).toBe(false);
    expect(parseClusterId(CLUSTER)).toEqual({
      subscriptionId: "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10",
      resourceGroup: "ml-rg",
      name: "mm-aks",
    });
    expect(() => parseClusterId("/subscriptions/1/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v")).toThrow(
      "is not an AKS cluster's resource id",
    );
  });
});
