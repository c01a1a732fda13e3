// Event Grid: the storage account's system topic, and a subscription delivering BlobCreated events
// of the models container to the app's modelBlobCreated function (model ingestion by blob drop).
// The subscription needs the function to exist: deploy the code first, then this with
// wireModelBlobEvents=true (README, "Deploying to Azure").
param location string
param namePrefix string
param tags object
param storageId string
param functionAppId string
param wireModelBlobEvents bool

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${namePrefix}-storage-events'
  location: location
  tags: tags
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
  }
}

output topicId string = topic.id
