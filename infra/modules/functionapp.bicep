// The Functions app (Flex Consumption, Node.js 20) with a system-assigned managed identity, and
// every app setting the app reads (shared/config.ts): connections are identity-based, and the one
// secret is a Key Vault reference.
param location string
param namePrefix string
param tags object
param storageName string
param storageBlobEndpoint string
param cosmosEndpoint string
param cosmosDatabase string
param cosmosContainer string
@description('The token issuers the API trusts, comma-separated.')
param authIssuer string
@description('The token audiences the API accepts, comma-separated.')
param authAudience string
param authAcceptArmTokens bool
param authJwksUri string
param aksClusterId string
@description('The role the app grants itself in each account\'s AKS namespace.')
param aksNamespaceRoleId string
param registryId string
param registryLoginServer string
param serviceKeysSecretUri string
param fetchAllowedOrigins string
param appInsightsEnabled bool
param appInsightsConnectionString string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${namePrefix}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

var telemetry = appInsightsEnabled ? [
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  // Telemetry signs in with the app's identity (the component has local auth off).
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
] : []

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: '${namePrefix}-func'
  location: location
  // azd finds the app azure.yaml's service `api` deploys to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}app-package'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat([
        // The host's storage, identity-based: no connection string, no account key.
        { name: 'AzureWebJobsStorage__accountName', value: storageName }
        { name: 'COSMOS_ENDPOINT', value: cosmosEndpoint }
        { name: 'COSMOS_DATABASE', value: cosmosDatabase }
        { name: 'COSMOS_CONTAINER', value: cosmosContainer }
        { name: 'AUTH_ISSUER', value: authIssuer }
        { name: 'AUTH_AUDIENCE', value: authAudience }
        { name: 'AUTH_ACCEPT_ARM_TOKENS', value: string(authAcceptArmTokens) }
        { name: 'AUTH_JWKS_URI', value: authJwksUri }
        { name: 'COMPUTE_TARGETS', value: aksClusterId }
        { name: 'IMAGE_BUILD_QUEUE', value: 'image-builds' }
        { name: 'SERVICE_ROLLOUT_QUEUE', value: 'service-rollouts' }
        { name: 'STORAGE_PURGE_QUEUE', value: 'storage-purges' }
        // The host reads a request's whole body before the app checks its token: the API takes
        // JSON bodies of at most 1 MB, so 2 MB bounds what an unauthenticated caller makes it hold.
        { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: '2097152' }
        // Scratch space where the builder writes layers and the Dockerfile context before ACR Tasks runs.
        { name: 'IMAGES_DIR', value: '/tmp/model-management/images' }
        { name: 'ACR_REGISTRY_ID', value: registryId }
        { name: 'ACR_LOGIN_SERVER', value: registryLoginServer }
        // Docker Hub limits anonymous pulls: the deployment copies the base image into the registry (infra/hooks/base-image.ts).
        { name: 'IMAGE_BASE', value: '${registryLoginServer}/base/python:3.11-slim' }
        { name: 'AKS_INGRESS_CLASS', value: 'webapprouting.kubernetes.azure.com' }
        { name: 'AKS_NAMESPACE_ROLE_ID', value: aksNamespaceRoleId }
        { name: 'FETCH_ALLOWED_ORIGINS', value: fetchAllowedOrigins }
        { name: 'SERVICE_KEYS_SECRET', value: '@Microsoft.KeyVault(SecretUri=${serviceKeysSecretUri})' }
      ], telemetry)
    }
  }
}

output id string = site.id
output name string = site.name
output principalId string = site.identity.principalId
output apiBaseUrl string = 'https://${site.properties.defaultHostName}/api'
