import { ContainerServiceClient, type ContainerServiceClientOptionalParams } from "@azure/arm-containerservice";
import type { TokenCredential } from "@azure/identity";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeAccess } from "./aks-compute-target.js";
import { parseClusterId } from "./cluster-id.js";

/**
 * The audience of Entra ID tokens for AKS clusters with Entra ID integration: the AKS server
 * application, a fixed public id (what kubelogin asks a token for).
 */
export const AKS_ENTRA_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630";

/**
 * A cluster's API server and credentials through ARM (`listClusterUserCredential`), signed in
 * with the app's identity. Clusters with Entra ID integration answer with a kubeconfig that runs
 * kubelogin; the app already holds an identity, so it asks Entra ID for the AKS token itself and
 * puts it in place of the exec plugin. Clusters with local accounts keep the kubeconfig's own user.
 */
export function aksAccess(
  clusterId: string,
  credential: TokenCredential,
  clientOptions: ContainerServiceClientOptionalParams = {},
): KubeAccess {
  const { subscriptionId, resourceGroup, name } = parseClusterId(clusterId);
  const client = new ContainerServiceClient(credential, subscriptionId, clientOptions);
  return async () => {
    const result = await client.managedClusters.listClusterUserCredentials(resourceGroup, name, { format: "exec" });
    const value = result.kubeconfigs?.[0]?.value;
    if (!value) throw new Error(`AKS returned no kubeconfig for ${name}.`);
    const kc = new KubeConfig();
    kc.loadFromString(Buffer.from(value).toString("utf8"));
    const user = kc.getCurrentUser();
    if (user && (user.exec || user.authProvider)) {
      const token = await credential.getToken(`${AKS_ENTRA_SERVER_APP}/.default`);
      if (!token) throw new Error(`Entra ID gave no token for the AKS cluster ${name}.`);
      kc.loadFromOptions({
        clusters: kc.clusters,
        users: [{ name: user.name, token: token.token }],
        contexts: kc.contexts,
        currentContext: kc.getCurrentContext(),
      });
    }
    return kc;
  };
}
