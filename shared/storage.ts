import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { DefaultAzureCredential } from "@azure/identity";

export interface StorageClients {
  queues: QueueServiceClient;
  blobs: BlobServiceClient;
}

/**
 * The app's storage account, from the same settings the Functions host reads for
 * `AzureWebJobsStorage`: a connection string (Azurite locally), or an identity-based connection
 * (`AzureWebJobsStorage__queueServiceUri` and `__blobServiceUri`, or `__accountName`).
 */
export function storageClients(env: NodeJS.ProcessEnv = process.env): StorageClients {
  const connectionString = env.AzureWebJobsStorage;
  if (connectionString) {
    return {
      queues: QueueServiceClient.fromConnectionString(connectionString),
      blobs: BlobServiceClient.fromConnectionString(connectionString),
    };
  }
  const account = env.AzureWebJobsStorage__accountName;
  const queueUri = env.AzureWebJobsStorage__queueServiceUri ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  const blobUri = env.AzureWebJobsStorage__blobServiceUri ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
  if (!queueUri || !blobUri) {
    throw new Error(
      "No storage account: set AzureWebJobsStorage (a connection string) or AzureWebJobsStorage__accountName (identity-based).",
    );
  }
  const credential = new DefaultAzureCredential(
    env.AzureWebJobsStorage__clientId ? { managedIdentityClientId: env.AzureWebJobsStorage__clientId } : undefined,
  );
  return { queues: new QueueServiceClient(queueUri, credential), blobs: new BlobServiceClient(blobUri, credential) };
}
