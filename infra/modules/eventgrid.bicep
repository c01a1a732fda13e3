// Event Grid: the storage account's system topic, and a subscription delivering BlobCreated events
// of the models container to the app's modelBlobCreated function (model ingestion by blob drop).
// The subscription needs the function to exist: deploy the code first, then this with
// wireModelBlobEvents=true (README, "Deploying to Azure"). Events it cannot deliver within the
// retry policy go to the event-deadletter container, written with the topic's own identity (the
// account takes no shared key), instead of being dropped.
param location string
param namePrefix string
param tags object
param storageId string
param deadLetterContainer string = 'event-deadletter'
param functionAppId string
param wireModelBlobEvents bool

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${namePrefix}-storage-events'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: storageId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource modelBlobs 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (wireModelBlobEvents) {
  parent: topic
  name: 'model-blob-created'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/modelBlobCreated'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/models/blobs/'
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: { resourceId: storageId, blobContainerName: deadLetterContainer }
      }
    }
  }
  dependsOn: [deadLetterWriter]
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: last(split(storageId, '/'))
}
resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${storage.name}/default/${deadLetterContainer}'
}

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor: the topic writes undelivered events

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetters.id, topic.id, storageBlobDataContributor)
  scope: deadLetters
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output topicId string = topic.id
