import type { Readable } from "node:stream";
import { RestError, type BlobServiceClient } from "@azure/storage-blob";
import { MODEL_DROP_CONTAINER, UPLOAD_CONTAINER, accountBlobPrefix } from "../schemas/storage-layout.js";
import { BuildFailure, displayUrl } from "./build-failure.js";
import { leftByEarlierAccount } from "../account-blobs.js";
import type { FetchedContent } from "./fetch-content.js";

const READABLE_CONTAINERS = [MODEL_DROP_CONTAINER, UPLOAD_CONTAINER];

/**
 * Reads blobs of the app's own storage account with the app's own identity, so a model dropped in
 * (or uploaded by `mm` to) storage is registered by its plain URL, with no SAS signature kept in
 * the store. To keep this from being a confused deputy, only the `models` and `uploads` containers
 * are read, and only under the requesting account's prefix `<subscription>/<resourceGroup>/<account>/`:
 * one account's users cannot have the builder read another's blobs, or the app's build logs.
 */
export class OwnBlobReader {
  readonly #base: URL;

  constructor(private readonly blobs: BlobServiceClient) {
    this.#base = new URL(blobs.url.endsWith("/") ? blobs.url : `${blobs.url}/`);
  }

  /** True when the URL points into the app's storage account (and carries no SAS of its own). */
  owns(raw: string): boolean {
    const url = safeUrl(raw);
    return url !== undefined && url.search === "" && url.origin === this.#base.origin && url.pathname.startsWith(this.#base.pathname);
  }

  /**
   * The blob a URL names, when it is one of the account's own (a model drop or an upload under
   * its prefix); undefined for anything else.
   */
  locate(raw: string, accountPath: string): AccountBlob | undefined {
    if (!this.owns(raw)) return undefined;
    const url = new URL(raw);
    const [container, ...rest] = decodeURIComponent(url.pathname.slice(this.#base.pathname.length)).split("/");
    const blobName = rest.join("/");
    // Dot segments are refused outright: a name must not climb out of the account's prefix.
    const climbs = rest.some((segment) => segment === "." || segment === ".." || segment === "");
    if (!container || !READABLE_CONTAINERS.includes(container) || climbs || !blobName.startsWith(accountBlobPrefix(accountPath)))
      return undefined;
    return { container, blobName };
  }

  /**
   * Opens a blob of the account's prefix. One last written before `since` (the account's
   * creation) is refused: it was left by a deleted account of the same name.
   */
  async open(raw: string, what: string, accountPath: string, since: string): Promise<FetchedContent> {
    const url = new URL(raw);
    const located = this.locate(raw, accountPath);
    if (!located) {
      throw new BuildFailure(
        "UrlRefused",
        `Refused to read ${displayUrl(url)} from the service's own storage: only ${READABLE_CONTAINERS.map((c) => `${c}/${accountBlobPrefix(accountPath)}…`).join(" and ")} belong to this account.`,
      );
    }
    const { container, blobName } = located;
    let download;
    try {
      download = await this.blobs.getContainerClient(container).getBlobClient(blobName).download();
    } catch (err) {
      const why =
        err instanceof RestError && err.statusCode === 404 ? "there is no such blob" : err instanceof Error ? err.message : String(err);
      throw new BuildFailure("ContentUnavailable", `Could not read ${what} from ${displayUrl(url)}: ${why}.`);
    }
    const body = download.readableStreamBody as Readable;
    if (leftByEarlierAccount(download.lastModified, since)) {
      body.destroy();
      throw new BuildFailure(
        "UrlRefused",
        `Refused to read ${displayUrl(url)}: it was written before this account was created, by a deleted account of the same name.`,
      );
    }
    return { body, size: download.contentLength, contentType: download.contentType, etag: download.etag };
  }

  /**
   * The ETag of a blob of the account's prefix (what the layer cache knows its content by);
   * undefined when `open` would refuse it or it cannot be read: `open` then says why.
   */
  async etag(raw: string, accountPath: string, since: string): Promise<string | undefined> {
    const located = this.locate(raw, accountPath);
    if (!located) return undefined;
    try {
      const properties = await this.blobs.getContainerClient(located.container).getBlobClient(located.blobName).getProperties();
      return leftByEarlierAccount(properties.lastModified, since) ? undefined : properties.etag;
    } catch {
      return undefined;
    }
  }
}

/** A blob of an account: its container and name. */
export interface AccountBlob {
  container: string;
  blobName: string;
}

function safeUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}
