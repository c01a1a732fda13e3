import { RestError, type BlobServiceClient } from "@azure/storage-blob";
import type { AccountBlob } from "./image-building/own-blob-reader.js";
import { MODEL_DATA_CONTAINER, MODEL_DROP_CONTAINER, UPLOAD_CONTAINER, accountBlobPrefix } from "./schemas/storage-layout.js";

/** The containers where blobs are filed under their account's prefix. */
const ACCOUNT_CONTAINERS = [MODEL_DROP_CONTAINER, UPLOAD_CONTAINER, MODEL_DATA_CONTAINER];

/**
 * An account's blobs in the service's storage: its dropped models, its uploads, its services'
 * collected data. They are named by the account's path, not its incarnation, so deleting the
 * account deletes them: a new account of the same name must not find the old owner's files.
 */
export class AccountBlobs {
  constructor(private readonly blobs: BlobServiceClient) {}

  /** Deletes one blob of an account (a deleted model's upload); gone already is fine. */
  async deleteBlob(blob: AccountBlob): Promise<void> {
    await this.blobs.getContainerClient(blob.container).deleteBlob(blob.blobName, { deleteSnapshots: "include" }).catch(ignoreMissing);
  }

  /** Deletes every blob under the account's prefix, in every account container; what is already gone is fine. */
  async deleteAll(accountPath: string): Promise<void> {
    const prefix = accountBlobPrefix(accountPath);
    for (const name of ACCOUNT_CONTAINERS) {
      const container = this.blobs.getContainerClient(name);
      try {
        for await (const page of container.listBlobsFlat({ prefix }).byPage({ maxPageSize: 500 })) {
          await Promise.all(
            page.segment.blobItems.map((blob) => container.deleteBlob(blob.name, { deleteSnapshots: "include" }).catch(ignoreMissing)),
          );
        }
      } catch (err) {
        ignoreMissing(err); // no such container: nothing of the account's there
      }
    }
  }
}

function ignoreMissing(err: unknown): void {
  if (err instanceof RestError && err.statusCode === 404) return;
  throw err;
}

/**
 * Whether a blob of an account's prefix was last written before the account was created: then a
 * deleted account of the same name left it, and it is not the current owner's. Blob times have
 * whole seconds, so a blob written in the second the account was created counts as its own.
 */
export function leftByEarlierAccount(lastModified: Date | undefined, accountCreatedAt: string): boolean {
  if (!lastModified) return false;
  return lastModified.getTime() < Math.floor(Date.parse(accountCreatedAt) / 1000) * 1000;
}
