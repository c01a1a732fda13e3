import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { DefaultAzureCredential } from "@azure/identity";
import type { StorageSettings } from "./config.js";

export interface StorageClients {
  queues: QueueServiceClient;
  blobs: BlobServiceClient;
}

/**
 * Clients of the app's storage account, from the same settings the Functions host reads for
 * `AzureWebJobsStorage`: a connection string (Azurite locally), or an identity-based connection.
 */
export function storageClients(settings: StorageSettings): StorageClients {
  if ("connectionString" in settings) {
    return {
      queues: QueueServiceClient.fromConnectionString(settings.connectionString),
      blobs: BlobServiceClient.fromConnectionString(settings.connectionString),
    };
  }
  const credential = new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : undefined);
  return {
    queues: new QueueServiceClient(settings.queueServiceUri, credential),
    blobs: new BlobServiceClient(settings.blobServiceUri, credential),
  };
}
