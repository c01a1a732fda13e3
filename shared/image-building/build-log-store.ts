import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";

const READ_FOR_MS = 30 * 24 * 3600 * 1000;

/**
 * Keeps build logs in blob storage (container `build-logs`, one blob per image) and hands out a
 * read-only SAS URL the user can GET: signed with the account key where there is one (Azurite),
 * with a user delegation key where the app signs in with its identity.
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
  async save(imageId: string, text: string): Promise<string> {
    await this.write(imageId, text);
    return this.readUrl(imageId);
  }

  async write(imageId: string, text: string): Promise<void> {
    this.#ready ??= this.#container.createIfNotExists().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    await this.#ready;
    await this.#blob(imageId).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" } });
  }

  /** A read-only SAS URL to an image's build log. */
  async readUrl(imageId: string): Promise<string> {
    const blob = this.#blob(imageId);
    const expiresOn = new Date(Date.now() + READ_FOR_MS);
    const permissions = BlobSASPermissions.parse("r");
    if (blob.credential instanceof StorageSharedKeyCredential) {
      return blob.generateSasUrl({ permissions, expiresOn });
    }
    const startsOn = new Date(Date.now() - 5 * 60 * 1000);
    const key = await this.blobs.getUserDelegationKey(startsOn, expiresOn);
    return blob.generateUserDelegationSasUrl({ permissions, startsOn, expiresOn }, key);
  }

  #blob(imageId: string) {
    return this.#container.getBlockBlobClient(`${imageId}.log`);
  }
}
