import { createHash } from "node:crypto";
import type { Container, JSONObject, OperationInput } from "@azure/cosmos";
import { batchAnswer, batchFailure, batchSucceeded, conditionalReplace, runBatch } from "./document-io.js";
import { Errors } from "../errors.js";
import type { StoredDocument, WithEtag } from "./documents.js";

interface VersionCounter extends StoredDocument {
  kind: "counter";
  lastVersion: number;
  _etag?: string;
}

const MAX_ATTEMPTS = 200;

/** The id of the version counter of a name (per scope: model, manifest, image). */
export function counterIdOf(scope: string, name: string): string {
  return `counter-${scope}-${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
}

/**
 * Creates a document that takes the next version of its name (1, 2, 3 … with no gap and no
 * duplicate under concurrency). The version counter and the new document are written in one
 * transactional batch whose first operation is conditional on the counter's ETag (or on the
 * counter not existing yet): of two racing writers one wins, the other re-reads and retries.
 */
export async function createVersioned<T extends StoredDocument & { version: number }>(
  container: Container,
  pk: string,
  counterScope: string,
  name: string,
  build: (version: number) => T,
  options: {
    /** Documents created in the same batch as the new one (an image's operation). */
    companions?: (doc: T) => StoredDocument[];
    /**
     * The documents the new one refers to, read anew for each attempt (throwing when one is gone):
     * touched in the batch, so that the create fails if one is deleted meanwhile, and a delete
     * that checked for references fails if this create came first (see `touch`).
     */
    references?: () => Promise<WithEtag<StoredDocument>[]>;
  } = {},
): Promise<T> {
  const counterId = counterIdOf(counterScope, name);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { resource: counter } = await container.item(counterId, pk).read<VersionCounter>();
    const version = (counter?.lastVersion ?? 0) + 1;
    const doc = build(version);
    const counterOp: OperationInput = counter
      ? {
          operationType: "Replace",
          id: counterId,
          partitionKey: pk,
          ifMatch: counter._etag,
          resourceBody: { id: counterId, pk, kind: "counter", lastVersion: version },
        }
      : { operationType: "Create", partitionKey: pk, resourceBody: { id: counterId, pk, kind: "counter", lastVersion: version } };
    const creates: OperationInput[] = [doc, ...(options.companions?.(doc) ?? [])].map((d) => ({
      operationType: "Create",
      partitionKey: pk,
      resourceBody: d as unknown as JSONObject,
    }));
    const touches = ((await options.references?.()) ?? []).map(conditionalReplace);
    const response = await runBatch(container, [counterOp, ...creates, ...touches], pk);
    if (batchSucceeded(response, 1 + creates.length + touches.length)) {
      return response.result![1]!.resourceBody as unknown as T;
    }
    const failed = batchFailure(response);
    // 412/409 on the counter: another writer took the version. 404: the counter went under us (its
    // account is being deleted): the next attempt starts a counter, in a partition no one reads
    // any more. 412/404 on a touched reference: it changed or went; the next attempt reads it anew.
    const lostRace =
      (failed.index <= 0 && [412, 409, 404].includes(failed.status)) ||
      (failed.index > creates.length && [412, 404].includes(failed.status));
    if (!lostRace) {
      throw new Error(`Versioned create of ${counterScope} "${name}" failed: batch answered ${batchAnswer(response)}.`);
    }
    // Lost the race: back off a little (jittered, growing) and take the next version.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** Math.min(attempt, 6))));
  }
  throw Errors.tooMuchContention(`${counterScope} "${name}"`);
}
