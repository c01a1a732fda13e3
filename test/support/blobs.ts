import { BlobSASPermissions, BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { randomUUID } from "node:crypto";
import { azuriteConnectionString } from "../../devhost/azurite-account.js";


/** Puts test content into a stack's Azurite and hands back read SAS URLs, as a user would register them. */
export class TestBlobs {
  readonly #container: ContainerClient;
  #ready: Promise<unknown> | undefined;

  constructor(blobPort: number, containerName = `drops-${randomUUID().slice(0, 8)}`) {
    const connection = azuriteConnectionString({ blob: blobPort });
    this.#container = BlobServiceClient.fromConnectionString(connection).getContainerClient(containerName);
  }

  /** Uploads content and returns a read SAS URL to it. */
  async put(name: string, content: string | Buffer): Promise<string> {
    this.#ready ??= this.#container.createIfNotExists();
    await this.#ready;
    const blob = this.#container.getBlockBlobClient(name);
    const body = typeof content === "string" ? Buffer.from(content) : content;
    await blob.upload(body, body.length);
    return this.sasUrl(name);
  }

  sasUrl(name: string): Promise<string> {
    return this.#container.getBlockBlobClient(name).generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
  }
}

/** Reads a blob of a stack's Azurite as text; undefined when it does not exist. */
export async function readBlob(blobPort: number, container: string, name: string): Promise<string | undefined> {
  const connection = azuriteConnectionString({ blob: blobPort });
  const blob = BlobServiceClient.fromConnectionString(connection).getContainerClient(container).getBlobClient(name);
  if (!(await blob.exists())) return undefined;
  return (await blob.downloadToBuffer()).toString("utf8");
}
