import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { ingestModelBlob, type ModelIngestionDeps } from "../../shared/ingest/model-blob-ingestion.js";
import type { StorageClients } from "../../shared/storage.js";

/** What the blob-drop hook uses: what ingestion needs, with the app's storage account. */
export interface BlobEventDeps extends Omit<ModelIngestionDeps, "blobs"> {
  storage: Pick<StorageClients, "blobs">;
}

/**
 * The Event Grid hook on new model blobs: a blob created at
 * `models/<subscriptionId>/<resourceGroup>/<account>/<modelName>/<file>` becomes the next version
 * of that model. In Azure a system topic on the storage account delivers it; locally the local
 * host watches Azurite and delivers the same events. A failure is thrown so Event Grid retries.
 */
export const makeModelBlobCreated =
  (getDeps: () => Promise<BlobEventDeps>) =>
  async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const deps = await getDeps();
    const result = await ingestModelBlob(
      { accounts: deps.accounts, models: deps.models, blobs: deps.storage.blobs, ownBlobs: deps.ownBlobs },
      event,
    );
    switch (result.outcome) {
      case "registered":
        context.log(`Registered model ${result.model.name} version ${result.model.version} (${result.model.id}) from ${event.subject}.`);
        break;
      case "duplicate":
        context.log(`Event ${event.id} was already ingested as model ${result.model.name} version ${result.model.version}; nothing to do.`);
        break;
      case "ignored":
        context.warn(`Ignored event ${event.id}: ${result.reason}.`);
    }
  };
