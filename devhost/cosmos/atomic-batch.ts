import { parsePartitionKey, type EmulatedCollection } from "./emulator-internals.js";

type Doc = Record<string, unknown>;

/**
 * Transactional batches as Cosmos DB runs them: all or nothing. The emulator's batch handler
 * applies a batch's operations one by one and leaves those before a failed one applied; the app
 * relies on batches being atomic (a version counter with its new document, a delete with the
 * purge it leaves, a reference checked with the write that adds it), so the durable server takes
 * the documents a batch names before it runs and puts them back, exactly as they were (ETags
 * too), when it fails.
 */
export class BatchUndo {
  readonly #before = new Map<string, { id: string; partition: unknown; doc: Doc | undefined }>();

  constructor(
    private readonly collection: EmulatedCollection,
    operations: unknown,
  ) {
    for (const op of Array.isArray(operations) ? (operations as Doc[]) : []) {
      const id = op.id ?? (op.resourceBody as Doc | undefined)?.id;
      if (typeof id !== "string") continue;
      const partition = parsePartitionKey(op.partitionKey, id);
      const key = JSON.stringify([partition, id]);
      if (this.#before.has(key)) continue;
      const doc = collection.document(id, partition).read() as Doc | undefined;
      this.#before.set(key, { id, partition, doc: doc ? structuredClone(doc) : undefined });
    }
  }

  /** Whether the batch's results say it failed (an operation answered 4xx/5xx). */
  static failed(results: unknown): boolean {
    return Array.isArray(results) && results.some((r) => Number((r as Doc).statusCode) >= 400);
  }

  /** Puts every document the batch named back as it was before the batch ran. */
  undo(): void {
    const documents = this.collection.documents;
    for (const { id, partition, doc } of this.#before.values()) {
      if (this.collection.document(id, partition).read()) documents.delete(id, partition);
      if (doc) documents._set(doc);
    }
  }
}
