// The app's storage account: the Functions host's own state, the work queues, model drops,
// uploads, build logs and collected model data. Shared keys are off: every client signs in with
// Entra ID (the app's managed identity; users with their own identity).
param location string
param storageName string
param tags object

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// models: blob drops that become model versions (models/<subscription>/<group>/<account>/<model>/<file>);
// uploads: what mm uploads; build-logs: image build logs; modeldata: collected inputs and predictions;
// app-package: the Flex Consumption deployment package; event-deadletter: model drops Event Grid
// could not deliver to the app (modules/eventgrid.bicep).
var containers = ['models', 'uploads', 'build-logs', 'modeldata', 'app-package', 'event-deadletter']
resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in containers: {
  parent: blobs
  name: name
  properties: { publicAccess: 'None' }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// The queues the app's triggers read (IMAGE_BUILD_QUEUE, SERVICE_ROLLOUT_QUEUE, STORAGE_PURGE_QUEUE) and their poison queues.
var queues = ['image-builds', 'image-builds-poison', 'service-rollouts', 'service-rollouts-poison', 'storage-purges', 'storage-purges-poison']
resource workQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for name in queues: {
  parent: queueService
  name: name
}]

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
