const CLUSTER_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i;

/** Whether a compute resource id names an AKS cluster. */
export function isAksClusterId(id: string): boolean {
  return CLUSTER_ID.test(id);
}

export function parseClusterId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = CLUSTER_ID.exec(id);
  if (!m)
    throw new Error(
      `"${id}" is not an AKS cluster's resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name>).`,
    );
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}
