// Everything the Model Management service needs in Azure, in one resource group:
//   az deployment group create -g <group> -f infra/main.bicep -p infra/main.parameters.json
// See the README's cloud section for the whole sequence (code publish, Event Grid wiring).
targetScope = 'resourceGroup'

@description('Where the resources go.')
param location string = resourceGroup().location

@description('What resource names start with: letters and digits are kept, the first 12 of them (azd passes its environment name).')
@minLength(1)
@maxLength(64)
param namePrefix string

@description('The API\'s Entra ID application ID URI (the audience of its v1 tokens): tokens must be issued for it.')
param authAudience string

@description('The API\'s Entra ID application (client) id: the audience of its v2 tokens. Empty: v1 tokens only.')
param authClientId string = ''

@description('Also accept Azure Resource Manager tokens of the tenant, as the 2017 CLI sent them.')
param authAcceptArmTokens bool = false

@description('The Entra ID tenant whose tokens the API accepts.')
param authTenantId string = tenant().tenantId

@description('32 random bytes, base64 (openssl rand -base64 32): encrypts service keys at rest. Kept in Key Vault.')
@secure()
param serviceKeysSecret string

@description('Origins the builder may fetch model and asset URLs from, comma-separated.')
param fetchAllowedOrigins string = 'https://*.blob.${environment().suffixes.storage}'

@description('Send telemetry from the app and the scoring services to Application Insights.')
param appInsightsEnabled bool = true

@description('AKS nodes: how many, and of which size.')
param aksNodeCount int = 2
param aksNodeVmSize string = 'Standard_D4s_v5'

@description('Wire blob drops in the models container to the modelBlobCreated function (once the code is published).')
param wireModelBlobEvents bool = false

@description('The Key Vault\'s name. Purge protection keeps a deleted vault\'s name for 90 days: after deleting a resource group, deploy it again with another name here. Empty: derived from the group and the prefix.')
@maxLength(24)
param keyVaultName string = ''

param tags object = { app: 'model-management' }

// The Cosmos container and partition key the code uses (shared/config.ts, shared/store/cosmos.ts).
var cosmosDatabase = 'modelmanagement'
var cosmosContainer = 'resources'
var cosmosPartitionKey = '/pk'
// Names take letters and digits only, and the shortest limits are 24 (storage, Key Vault).
var prefix = take(toLower(replace(replace(replace(namePrefix, '-', ''), '_', ''), '.', '')), 12)
var suffix = uniqueString(resourceGroup().id, prefix)
// The custom role the app holds in each account's AKS namespace (modules/roles.bicep defines it).
var namespaceRoleGuid = guid(resourceGroup().id, 'model-management-aks-namespace-deployer')
var loginEndpoint = environment().authentication.loginEndpoint
// Entra ID names the tenant two ways: v2 tokens by the login endpoint, v1 tokens (and ARM's) by
// the security token service (sts.windows.net in the public cloud). Both sign with the same keys.
var authIssuers = '${loginEndpoint}${authTenantId}/v2.0,https://sts.windows.net/${authTenantId}/'
var authAudiences = empty(authClientId) ? authAudience : '${authAudience},${authClientId}'

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { location: location, namePrefix: prefix, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: { location: location, storageName: toLower(take('${prefix}${suffix}', 24)), tags: tags }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: { location: location, namePrefix: '${prefix}-${take(suffix, 6)}', tags: tags, databaseName: cosmosDatabase, containerName: cosmosContainer, partitionKeyPath: cosmosPartitionKey }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: { location: location, registryName: toLower(take('${prefix}acr${suffix}', 50)), tags: tags }
}

module aks 'modules/aks.bicep' = {
  name: 'aks'
  params: { location: location, namePrefix: prefix, tags: tags, nodeCount: aksNodeCount, nodeVmSize: aksNodeVmSize, registryId: registry.outputs.id }
}

module keyvault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    vaultName: empty(keyVaultName) ? '${prefix}-${take(suffix, 6)}-kv' : keyVaultName
    tags: tags
    serviceKeysSecret: serviceKeysSecret
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    namePrefix: '${prefix}-${take(suffix, 6)}'
    tags: tags
    storageName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmosDatabase
    cosmosContainer: cosmosContainer
    authIssuer: authIssuers
    authAudience: authAudiences
    authAcceptArmTokens: authAcceptArmTokens
    authJwksUri: '${loginEndpoint}${authTenantId}/discovery/v2.0/keys'
    aksClusterId: aks.outputs.id
    aksNamespaceRoleId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', namespaceRoleGuid)
    registryId: registry.outputs.id
    registryLoginServer: registry.outputs.loginServer
    serviceKeysSecretUri: keyvault.outputs.secretUri
    fetchAllowedOrigins: fetchAllowedOrigins
    appInsightsEnabled: appInsightsEnabled
    appInsightsConnectionString: monitoring.outputs.connectionString
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: functionApp.outputs.principalId
    storageName: storage.outputs.name
    cosmosName: cosmos.outputs.name
    vaultName: keyvault.outputs.name
    appInsightsId: monitoring.outputs.appInsightsId
    registryName: registry.outputs.name
    aksName: aks.outputs.name
    namespaceRoleGuid: namespaceRoleGuid
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  params: { location: location, namePrefix: prefix, tags: tags, storageId: storage.outputs.id, functionAppId: functionApp.outputs.id, wireModelBlobEvents: wireModelBlobEvents }
}

// What a local run against these resources, and the mm CLI, need (README: "Deploying to Azure").
output API_BASE_URL string = functionApp.outputs.apiBaseUrl
output FUNCTION_APP_NAME string = functionApp.outputs.name
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmosDatabase
output COSMOS_CONTAINER string = cosmosContainer
output AzureWebJobsStorage__accountName string = storage.outputs.name
output STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AUTH_ISSUER string = authIssuers
output AUTH_AUDIENCE string = authAudiences
output AUTH_JWKS_URI string = '${loginEndpoint}${authTenantId}/discovery/v2.0/keys'
output COMPUTE_TARGETS string = aks.outputs.id
output AKS_NAMESPACE_ROLE_ID string = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', namespaceRoleGuid)
output ACR_REGISTRY_ID string = registry.outputs.id
output ACR_LOGIN_SERVER string = registry.outputs.loginServer
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsightsEnabled ? monitoring.outputs.connectionString : ''
