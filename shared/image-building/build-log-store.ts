import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";

const READ_FOR_MS = 30 * 24 * 3600 * 1000;

/**
 * Keeps build logs in blob storage (container `build-logs`, one blob per image, under its
 * account's data partition: `<partition>/<imageId>.log`, so that deleting an account deletes its
 * logs by prefix) and hands out a read-only SAS URL the user can GET: signed with the account key
 * where there is one (Azurite), with a user delegation key where the app signs in with its identity.
 */
export class BuildLogStore {
  readonly #container: ContainerClient;
  #ready: Promise<unknown> | undefined;

  constructor(
    private readonly blobs: BlobServiceClient,
    containerName = "build-logs",
  ) {
    this.#container = blobs.getContainerClient(containerName);
  }

  /** Writes (or rewrites: a log only grows) an image's build log and returns its read URL. */
  async save(partition: string, imageId: string, text: string): Promise<string> {
    await this.write(partition, imageId, text);
    return this.readUrl(partition, imageId);
  }

  async write(partition: string, imageId: string, text: string): Promise<void> {
    this.#ready ??= this.#container.createIfNotExists().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    await this.#ready;
    await this.#blob(partition, imageId).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" },
    });
  }

  /** An image's build log as written so far; undefined when there is none. */
  async read(partition: string, imageId: string): Promise<string | undefined> {
    try {
      return (await this.#blob(partition, imageId).downloadToBuffer()).toString("utf8");
    } catch (err) {
      if ((err as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Deletes an image's build log (a deleted image's), and one kept under the name logs had before they were filed by account; gone already is fine. */
  async delete(partition: string, imageId: string): Promise<void> {
    for (const blob of [this.#blob(partition, imageId), this.#container.getBlockBlobClient(`${imageId}.log`)]) {
      await blob.delete().catch((err: unknown) => {
        // No such blob, or no container at all: either way the log is gone.
        if ((err as { statusCode?: unknown }).statusCode !== 404) throw err;
      });
    }
  }

  /** Deletes every build log of an account's data partition (a deleted account's). */
  async deleteAll(partition: string): Promise<void> {
    if (!(await this.#container.exists())) return;
    for await (const page of this.#container.listBlobsFlat({ prefix: `${partition}/` }).byPage({ maxPageSize: 500 })) {
      await Promise.all(page.segment.blobItems.map((b) => this.#container.getBlockBlobClient(b.name).deleteIfExists()));
    }
  }

  /** A read-only SAS URL to an image's build log. */
  async readUrl(partition: string, imageId: string): Promise<string> {
    const blob = this.#blob(partition, imageId);
    const expiresOn = new Date(Date.now() + READ_FOR_MS);
    const permissions = BlobSASPermissions.parse("r");
    if (blob.credential instanceof StorageSharedKeyCredential) {
      return blob.generateSasUrl({ permissions, expiresOn });
    }
    const startsOn = new Date(Date.now() - 5 * 60 * 1000);
    const key = await this.blobs.getUserDelegationKey(startsOn, expiresOn);
    return blob.generateUserDelegationSasUrl({ permissions, startsOn, expiresOn }, key);
  }

  #blob(partition: string, imageId: string) {
    return this.#container.getBlockBlobClient(`${partition}/${imageId}.log`);
  }
}
