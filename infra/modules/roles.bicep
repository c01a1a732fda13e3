// What the app's identity may do, and nothing more. Built-in roles are named by id with a comment;
// where no built-in role is narrow enough (ACR Tasks, AKS deployments), a custom role lists the
// exact actions the code calls. Every assignment's name is a guid() of scope, principal and role.
param principalId string
param storageName string
param cosmosName string
param vaultName string
param appInsightsId string
param registryName string
param aksName string
@description('The name (a GUID) of the custom role the app holds in accounts\' namespaces.')
param namespaceRoleGuid string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageName
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosName
}
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}
resource aks 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: aksName
}
resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: last(split(appInsightsId, '/'))
}

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner: the host's leases, the app's blobs, user delegation SAS for build logs
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor: the work queues and their triggers
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User: the SERVICE_KEYS_SECRET reference
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher: telemetry with Entra ID auth
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPull: read the pushed manifest's digest
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor (a Cosmos SQL role, data plane)

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner), principalId: principalId, principalType: 'ServicePrincipal' }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributor)
  scope: storage
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor), principalId: principalId, principalType: 'ServicePrincipal' }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser), principalId: principalId, principalType: 'ServicePrincipal' }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, principalId, monitoringMetricsPublisher)
  scope: insights
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher), principalId: principalId, principalType: 'ServicePrincipal' }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, acrPull)
  scope: registry
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull), principalId: principalId, principalType: 'ServicePrincipal' }
}

resource cosmosData 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: cosmos.id
  }
}

// ACR Tasks, exactly what shared/image-building/acr-tasks-builder.ts calls.
resource acrTasksRunner 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'model-management-acr-tasks-runner')
  properties: {
    roleName: 'Model Management ACR Tasks runner (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Upload build sources, schedule, follow, read the logs of and cancel ACR Tasks runs.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.ContainerRegistry/registries/read'
          'Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action'
          'Microsoft.ContainerRegistry/registries/scheduleRun/action'
          'Microsoft.ContainerRegistry/registries/runs/read'
          'Microsoft.ContainerRegistry/registries/runs/listLogSasUrl/action'
          'Microsoft.ContainerRegistry/registries/runs/cancel/action'
        ]
      }
    ]
  }
}

resource tasksRunner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, acrTasksRunner.id)
  scope: registry
  properties: { roleDefinitionId: acrTasksRunner.id, principalId: principalId, principalType: 'ServicePrincipal' }
}

// AKS, exactly what shared/compute/aks/ calls. On the cluster: its credentials, and managed
// namespaces (ARM refuses system namespaces such as kube-system as managed namespaces); no
// Kubernetes data action at cluster scope. In each account's namespace: the objects of services,
// through a role the app assigns to itself at that namespace's scope, and may assign nothing else.
resource aksNamespaceMaker 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'model-management-aks-namespace-maker')
  properties: {
    roleName: 'Model Management AKS namespace maker (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Read the cluster and its user credentials, and make the managed namespaces of accounts.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.ContainerService/managedClusters/read'
          'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'
          'Microsoft.ContainerService/managedClusters/managedNamespaces/read'
          'Microsoft.ContainerService/managedClusters/managedNamespaces/write'
        ]
      }
    ]
  }
}

resource namespaceMaker 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(aks.id, principalId, aksNamespaceMaker.id)
  scope: aks
  properties: { roleDefinitionId: aksNamespaceMaker.id, principalId: principalId, principalType: 'ServicePrincipal' }
}

// The role in each account's namespace (the id is main.bicep's AKS_NAMESPACE_ROLE_ID).
resource aksNamespaceDeployer 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: namespaceRoleGuid
  properties: {
    roleName: 'Model Management AKS namespace deployer (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Deploy scoring services in one namespace: secrets, deployments, services, ingresses, network policies, autoscalers; read pods and their logs.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        dataActions: [
          'Microsoft.ContainerService/managedClusters/secrets/*'
          'Microsoft.ContainerService/managedClusters/services/*'
          'Microsoft.ContainerService/managedClusters/apps/deployments/*'
          'Microsoft.ContainerService/managedClusters/networking.k8s.io/ingresses/*'
          'Microsoft.ContainerService/managedClusters/networking.k8s.io/networkpolicies/*'
          'Microsoft.ContainerService/managedClusters/autoscaling/horizontalpodautoscalers/*'
          'Microsoft.ContainerService/managedClusters/pods/read'
          'Microsoft.ContainerService/managedClusters/pods/log/read'
        ]
      }
    ]
  }
}

// Assigning that role, to itself only: an assignment condition (ABAC) on role assignments.
resource aksNamespaceGranter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'model-management-aks-namespace-granter')
  properties: {
    roleName: 'Model Management AKS namespace granter (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Create role assignments, as the assignment\'s condition allows.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.Authorization/roleAssignments/read'
          'Microsoft.Authorization/roleAssignments/write'
        ]
      }
    ]
  }
}

resource namespaceGranter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(aks.id, principalId, aksNamespaceGranter.id)
  scope: aks
  properties: {
    roleDefinitionId: aksNamespaceGranter.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${namespaceRoleGuid}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {${principalId}}))'
  }
}
