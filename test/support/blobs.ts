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

  exists(name: string): Promise<boolean> {
    return this.#container.getBlockBlobClient(name).exists();
  }

  sasUrl(name: string): Promise<string> {
    return this.#container
      .getBlockBlobClient(name)
      .generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
  }
}

/** Reads a blob of a stack's Azurite as text; undefined when it does not exist. */
async function readBlob(blobPort: number, container: string, name: string): Promise<string | undefined> {
  const connection = azuriteConnectionString({ blob: blobPort });
  const blob = BlobServiceClient.fromConnectionString(connection).getContainerClient(container).getBlobClient(name);
  if (!(await blob.exists())) return undefined;
  return (await blob.downloadToBuffer()).toString("utf8");
}

/** Waits (up to 10 s) for a blob to contain `text`, as appended blobs fill within seconds; returns what it holds. */
export async function waitForBlob(blobPort: number, container: string, name: string, text: string): Promise<string> {
  let content: string | undefined;
  for (let i = 0; i < 50 && !content?.includes(text); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 200));
    content = await readBlob(blobPort, container, name);
  }
  if (!content?.includes(text))
    throw new Error(`${container}/${name} does not contain ${text} after 10 s; it holds: ${content ?? "(no such blob)"}`);
  return content;
}

/** Today's `yyyy/mm/dd` (UTC), as model data paths have it. */
export function today(): string {
  const d = new Date();
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}`;
}
