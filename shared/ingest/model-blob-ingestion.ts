import { createHash } from "node:crypto";
import { RestError, type BlobGetPropertiesResponse, type BlobServiceClient } from "@azure/storage-blob";
import { z } from "zod";
import { accountPath, dataPartitionOf } from "../account-ref.js";
import type { OwnBlobReader } from "../image-building/own-blob-reader.js";
import { MODEL_DROP_CONTAINER } from "../schemas/storage-layout.js";
import { accountParams } from "../schemas/common.js";
import { modelRequest } from "../schemas/models.js";
import type { AccountRepository } from "../store/account-repository.js";
import type { ModelDocument } from "../store/documents.js";
import type { ModelRepository } from "../store/model-repository.js";
import { modelDocument } from "./model-document.js";
import { leftByEarlierAccount } from "../account-blobs.js";

const BLOB_CREATED = "Microsoft.Storage.BlobCreated";

export interface ModelIngestionDeps {
  accounts: Pick<AccountRepository, "get">;
  models: Pick<ModelRepository, "get" | "register">;
  blobs: BlobServiceClient;
  ownBlobs: Pick<OwnBlobReader, "owns">;
}

type IngestionOutcome =
  { outcome: "registered"; model: ModelDocument } | { outcome: "duplicate"; model: ModelDocument } | { outcome: "ignored"; reason: string };

/** The part of an Event Grid `BlobCreated` event (Event Grid schema) the hook reads. */
const blobEvent = z.object({
  eventType: z.string(),
  subject: z.string(),
  data: z.object({ url: z.string(), eTag: z.string().min(1), contentType: z.string().optional() }).loose(),
});

const LAYOUT = `${MODEL_DROP_CONTAINER}/<subscriptionId>/<resourceGroup>/<account>/<modelName>/<file>`;

/**
 * Registers a model version for a blob created at `models/<subscriptionId>/<resourceGroup>/<account>/<modelName>/<file>`:
 * the mime type from the blob's content type, `description`, `tags` (comma-separated) and
 * `unpack` from its metadata, the plain blob URL as the model's url (the builder reads the app's
 * own storage with its identity). Event Grid delivers at least once: the model's id is derived
 * from the blob's URL and ETag, so a repeated event finds the version it made and makes no other.
 * Anything else is ignored with a reason for the log; retrying would not change it.
 */
export async function ingestModelBlob(deps: ModelIngestionDeps, raw: unknown): Promise<IngestionOutcome> {
  const parsed = blobEvent.safeParse(raw);
  if (!parsed.success) return ignored("the event is not an Event Grid blob event (subject, data.url and data.eTag are required)");
  const event = parsed.data;
  if (event.eventType !== BLOB_CREATED) return ignored(`the event is a ${event.eventType}, not a ${BLOB_CREATED}`);
  const prefix = `/blobServices/default/containers/${MODEL_DROP_CONTAINER}/blobs/`;
  if (!event.subject.startsWith(prefix)) return ignored(`the blob (${event.subject}) is outside the ${MODEL_DROP_CONTAINER} container`);
  const blobName = event.subject.slice(prefix.length);
  const segments = blobName.split("/");
  if (segments.length !== 5 || segments.some((s) => s.length === 0))
    return ignored(`the blob ${MODEL_DROP_CONTAINER}/${blobName} is not laid out as ${LAYOUT}`);
  const [subscriptionId, resourceGroupName, accountName, modelName] = segments as [string, string, string, string, string];
  const account = accountParams.safeParse({ subscriptionId, resourceGroupName, accountName });
  if (!account.success)
    return ignored(
      `the blob ${MODEL_DROP_CONTAINER}/${blobName} does not name an account (${account.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")})`,
    );
  if (!deps.ownBlobs.owns(event.data.url)) return ignored(`the blob's URL is not in the service's storage account`);
  const path = accountPath(account.data);
  const owner = await deps.accounts.get(path);
  if (!owner || owner.state !== "Ready") return ignored(`there is no account ${path}`);
  const pk = dataPartitionOf(owner);

  const id = idForBlob(event.data.url, event.data.eTag);
  const existing = await deps.models.get(pk, id);
  if (existing) return { outcome: "duplicate", model: existing };

  let properties: BlobGetPropertiesResponse;
  try {
    properties = await deps.blobs.getContainerClient(MODEL_DROP_CONTAINER).getBlobClient(blobName).getProperties();
  } catch (err) {
    if (err instanceof RestError && err.statusCode === 404) return ignored(`the blob ${MODEL_DROP_CONTAINER}/${blobName} no longer exists`);
    throw err;
  }
  if (leftByEarlierAccount(properties.lastModified, owner.createdAt))
    return ignored(
      `the blob ${MODEL_DROP_CONTAINER}/${blobName} was written before ${path} was created, by a deleted account of the same name`,
    );
  const metadata = properties.metadata ?? {};
  const request = modelRequest.safeParse({
    name: modelName,
    ...(metadata.description ? { description: metadata.description } : {}),
    ...(metadata.tags
      ? {
          tags: metadata.tags
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : {}),
    mimeType: event.data.contentType || "application/octet-stream",
    ...(metadata.unpack ? { unpack: metadata.unpack.toLowerCase() === "true" } : {}),
    url: event.data.url,
  });
  if (!request.success)
    return ignored(`the blob's model is not valid: ${request.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);

  const createdAt = new Date().toISOString();
  try {
    const model = await deps.models.register(pk, (version) => modelDocument(id, pk, request.data, version, createdAt), request.data.name);
    return { outcome: "registered", model };
  } catch (err) {
    // Two deliveries of one event racing: the loser's batch fails on the id the winner took.
    const winner = await deps.models.get(pk, id);
    if (winner) return { outcome: "duplicate", model: winner };
    throw err;
  }
}

/** A UUID-shaped id that is the same for the same blob content (URL and ETag), and only then. */
function idForBlob(url: string, eTag: string): string {
  const h = createHash("sha256")
    .update(`${url}\n${eTag.replace(/^"|"$/g, "")}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function ignored(reason: string): IngestionOutcome {
  return { outcome: "ignored", reason };
}
