// The AKS cluster services run on: Entra ID integration with Azure RBAC for Kubernetes
// authorization (no local accounts), the application routing add-on as ingress, and the
// kubelet's identity allowed to pull from the registry.
param location string
param namePrefix string
param tags object
param nodeCount int
param nodeVmSize string
param registryId string

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  name: '${namePrefix}-aks'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    dnsPrefix: '${namePrefix}-aks'
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: { managed: true, enableAzureRBAC: true }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: nodeCount
        vmSize: nodeVmSize
        osType: 'Linux'
      }
    ]
    ingressProfile: { webAppRouting: { enabled: true } }
    // Network policies keep accounts' namespaces apart and drivers away from node credentials
    // (shared/compute/aks/kube-objects.ts): Cilium enforces them.
    networkProfile: { networkPlugin: 'azure', networkPluginMode: 'overlay', networkDataplane: 'cilium', networkPolicy: 'cilium' }
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: last(split(registryId, '/'))
}

var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull: the kubelet's nodes pull service images

resource kubeletPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, cluster.id, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: cluster.properties.identityProfile.kubeletidentity.objectId
    principalType: 'ServicePrincipal'
  }
}

output id string = cluster.id
output name string = cluster.name
