import { OperationFailure, type MessageQueue, type OperationKind } from "./operation-kind.js";
import { Operations } from "./operations.js";
import { accountPathOfPartition, dataPartitionOf, parseAccountPath } from "../account-ref.js";
import type { AccountBlob } from "../image-building/own-blob-reader.js";
import type { ImageBuilder, ImageOwner } from "../image-building/image-builder.js";
import type { AccountDocument, OperationDocument, PurgeTarget, WithEtag } from "../store/documents.js";

/** What a storage purge reads and deletes, declared here: the repositories, blob stores and builders are one implementation. */
interface StoragePurgeDeps {
  accounts: {
    get(path: string): Promise<WithEtag<AccountDocument> | undefined>;
    /** Deletes every document of the account, its own last (purge operations stay). */
    deleteAll(account: WithEtag<AccountDocument>): Promise<void>;
    deletePartition(pk: string): Promise<void>;
  };
  models: { countWithUrl(pk: string, url: string): Promise<number> };
  manifests: { countUsingUrl(pk: string, url: string): Promise<number> };
  images: { idsIn(pk: string): Promise<string[]> };
  /** The account's own blob a URL names (an upload or a model drop under its prefix), if it is one. */
  locateBlob(url: string, accountPath: string): AccountBlob | undefined;
  blobs: { deleteBlob(blob: AccountBlob): Promise<void>; deleteAll(accountPath: string): Promise<void> };
  logs: { delete(partition: string, imageId: string): Promise<void>; deleteAll(partition: string): Promise<void> };
  /** The builder that built images for a compute target; undefined when none is configured any more. */
  builderFor(computeResourceId: string): ImageBuilder | undefined;
  /** Every configured builder (an account's images may come from any). */
  builders(): ImageBuilder[];
  /** Writes an operation that no resource's write carries: the late pass an account's purge schedules. */
  schedule(op: OperationDocument): Promise<void>;
  /** How long after an account's deletion its partition is swept once more: longer than any request or attempt runs. */
  lateWritesMs: number;
  queue: MessageQueue;
}

/**
 * Releasing what a deleted resource leaves, as an operation kind: the delete writes the operation
 * with its own change (one batch), so a crash between the two loses nothing, and the sweeper
 * finishes a purge cut short. Every step is idempotent.
 * - a model: the blob it was registered from, when it is the account's own (an upload or a drop)
 *   and no other model of the account was registered from it;
 * - an image: its registry tag, its OCI layout entry and the blobs no image uses any more, its
 *   build context and its build log;
 * - an account (marked Deleting with this operation): its images, build logs and blobs, then its
 *   documents, its own last. Writes that passed their checks before the mark may still land in its
 *   data partition (a new account of the name has a partition of its own), so a second purge,
 *   due once such writes have ended, sweeps that partition and its images once more.
 */
export function storagePurgeKind(deps: StoragePurgeDeps): OperationKind<PurgeTarget, string[]> {
  /** Deletes a blob of the account's own storage that no model or manifest of the account names any more. */
  async function releaseBlob(pk: string, url: string): Promise<string> {
    const blob = deps.locateBlob(url, accountPathOfPartition(pk));
    if (!blob) return "a URL outside the account's own storage: left as it is"; // never the URL: it may carry a SAS
    const users = (await deps.models.countWithUrl(pk, url)) + (await deps.manifests.countUsingUrl(pk, url));
    if (users > 0) return `${blob.container}/${blob.blobName} kept: ${users} other models or manifests use it`;
    await deps.blobs.deleteBlob(blob);
    return `${blob.container}/${blob.blobName} deleted`;
  }

  /** What one life of an account has that is named by it, but its documents: images, and their build logs. */
  async function purgeIncarnation(owner: ImageOwner): Promise<string[]> {
    const notes: string[] = [];
    for (const id of await deps.images.idsIn(owner.partition)) await deps.logs.delete(owner.partition, id);
    for (const builder of deps.builders()) notes.push(...(await builder.removeAll(owner)));
    await deps.logs.deleteAll(owner.partition);
    return notes;
  }

  return {
    type: "Purge",
    noun: "storage purge",
    queue: deps.queue,
    poisonCode: "StoragePurgeFailed",

    async load({ operation }) {
      if (!operation.purge) throw new OperationFailure("NothingToPurge", `Operation ${operation.id} names nothing to purge.`);
      return operation.purge;
    },

    async running() {
      return [];
    },

    async work(target, ctx) {
      const pk = ctx.operation.pk;
      if ("model" in target) return [await releaseBlob(pk, target.model.url)];
      if ("manifest" in target) {
        const notes: string[] = [];
        for (const url of target.manifest.urls) notes.push(await releaseBlob(pk, url));
        return notes;
      }
      if ("image" in target) {
        const { image } = target;
        const accountPath = accountPathOfPartition(pk);
        const notes: string[] = [];
        const builder = deps.builderFor(image.computeResourceId);
        if (builder) {
          notes.push(
            ...(await builder.remove({
              imageId: image.id,
              imageName: image.name,
              version: image.version,
              accountPath,
              accountName: parseAccountPath(accountPath).accountName,
              partition: pk,
              ...(image.digest ? { digest: image.digest } : {}),
              ...(image.imageLocation ? { imageLocation: image.imageLocation } : {}),
            })),
          );
        } else notes.push(`no image builder serves "${image.computeResourceId}" any more: its registry is left as it is`);
        await deps.logs.delete(pk, image.id);
        return notes;
      }
      if ("lateWrites" in target) {
        const { path, partition } = target.lateWrites;
        const notes = await purgeIncarnation({ accountPath: path, accountName: parseAccountPath(path).accountName, partition });
        await deps.accounts.deletePartition(partition);
        return notes;
      }
      const { path, incarnation, createdAt } = target.account;
      const account = await deps.accounts.get(path);
      // Gone, or another life of the name: an earlier attempt got to the end (the account
      // document goes last, and no one can take the name before).
      if (!account || account.incarnation !== incarnation || account.createdAt !== createdAt) return [];
      const partition = dataPartitionOf(account);
      const notes = await purgeIncarnation({ accountPath: path, accountName: account.name, partition });
      await deps.blobs.deleteAll(path);
      if (partition !== path) {
        const late = Operations.create(
          "Purge",
          path,
          { id: path, path: ctx.operation.resourcePath },
          { purge: { lateWrites: { path, partition } }, notBefore: new Date(Date.now() + deps.lateWritesMs).toISOString() },
        );
        late.id = `${ctx.operation.id}-late`;
        await deps.schedule(late);
      }
      await deps.accounts.deleteAll(account);
      return notes;
    },

    async after(_target, ctx, error) {
      if (error === undefined) return;
      ctx.warn(`storage purge ${ctx.operation.id} failed (it is retried): ${error instanceof Error ? error.message : String(error)}`);
    },

    async ended() {
      return [];
    },
  };
}
