import type { Container, JSONObject, OperationInput, OperationResponse, Response } from "@azure/cosmos";
import type { StoredDocument } from "./documents.js";
import type { WithEtag } from "./documents.js";

/**
 * Ids this service gives documents: UUIDs and its own short names (`account`,
 * `counter-…`, `service-name-…`). Anything else cannot name a document, and could not be put
 * in a point read's URL safely, so it is not looked up.
 */
const DOCUMENT_ID = /^[A-Za-z0-9-]{1,64}$/;

/** A point read of one kind of document; undefined when there is none (or it is of another kind). */
export async function readOfKind<T extends StoredDocument>(
  container: Container,
  pk: string,
  id: string,
  kind: T["kind"],
): Promise<WithEtag<T> | undefined> {
  if (!DOCUMENT_ID.test(id)) return undefined;
  const { resource } = await container.item(id, pk).read<WithEtag<T>>();
  return resource?.kind === kind ? resource : undefined;
}

/** Replaces a document if it is unchanged since it was read; undefined when it changed meanwhile. */
export async function replaceIfUnchanged<T extends StoredDocument>(
  container: Container,
  doc: WithEtag<T>,
): Promise<WithEtag<T> | undefined> {
  const { _etag, ...body } = doc;
  try {
    const { resource } = await container
      .item(doc.id, doc.pk)
      .replace<T>(body as unknown as T, { accessCondition: { type: "IfMatch", condition: _etag } });
    return resource as WithEtag<T>;
  } catch (err) {
    if ((err as { code?: unknown }).code === 412) return undefined;
    throw err;
  }
}

/**
 * A transactional batch. @azure/cosmos rethrows a batch that failed in transit as a plain Error
 * that keeps its cause only in the message ("Batch request error: read ECONNRESET"); the
 * cause's code is put back on it here, so that a batch's network failure reads as any other's.
 */
export async function runBatch(container: Container, operations: OperationInput[], pk: string): Promise<Response<OperationResponse[]>> {
  try {
    return await container.items.batch(operations, pk);
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    const cause = /^Batch request error: (?:.*\b(E[A-Z]+|UND_ERR_[A-Z_]+)\b|(socket hang up))/.exec(message);
    if (cause && err instanceof Error && (err as { code?: unknown }).code === undefined)
      Object.assign(err, { code: cause[1] ?? "ECONNRESET" }); // Node's "socket hang up" is an ECONNRESET
    throw err;
  }
}

/**
 * A batch operation that replaces a document with `doc`, only if its ETag is still `doc._etag`.
 * Given the document as read, it "touches" it: a write that refers to the document (a manifest
 * to its models, an image to its manifest, a service to its image) touches it in the same batch,
 * so that a delete which checked for references against the ETag it read fails (412) when a
 * reference was added meanwhile, and the referring write fails (404, 412) when the document went
 * or changed first.
 */
export function conditionalReplace(doc: WithEtag<StoredDocument>): OperationInput {
  const { _etag, ...body } = doc as WithEtag<StoredDocument> & Record<string, unknown>;
  return { operationType: "Replace", id: doc.id, partitionKey: doc.pk, ifMatch: _etag, resourceBody: body as unknown as JSONObject };
}

/** What a batch answered, for an error message: each operation's status, or the batch's own. */
export function batchAnswer(response: Response<OperationResponse[]>): string {
  return (response.result ?? []).map((r) => r.statusCode).join(", ") || String(response.code);
}

/** How many documents of a partition match a condition (`c.pk = @pk` is added; parameters name the rest). */
export async function countWhere(
  container: Container,
  pk: string,
  condition: string,
  parameters: { name: string; value: string }[],
): Promise<number> {
  const { resources } = await container.items
    .query<number>(
      { query: `SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk AND ${condition}`, parameters: [{ name: "@pk", value: pk }, ...parameters] },
      { partitionKey: pk },
    )
    .fetchAll();
  return resources[0] ?? 0;
}

/** Whether every operation of a batch succeeded. */
export function batchSucceeded(response: Response<OperationResponse[]>, count: number): boolean {
  const results = response.result ?? [];
  return results.length === count && results.every((r) => r.statusCode >= 200 && r.statusCode < 300);
}

/**
 * The status of the operation that failed a batch (the others answer 424, "failed dependency"),
 * with its index; the batch's own status when it has no per-operation results.
 */
export function batchFailure(response: Response<OperationResponse[]>): { index: number; status: number } {
  const results = response.result ?? [];
  const index = results.findIndex((r) => r.statusCode >= 300 && r.statusCode !== 424);
  return index >= 0 ? { index, status: results[index]!.statusCode } : { index: -1, status: response.code ?? 0 };
}

/** Deletes a document if it is unchanged since it was read, with documents created in the same batch; false when it changed or went. */
export async function deleteIfUnchanged(
  container: Container,
  doc: WithEtag<StoredDocument>,
  creates: StoredDocument[] = [],
): Promise<boolean> {
  const response = await runBatch(
    container,
    [
      // The batch API takes ifMatch on a delete too (the SDK passes operations through as given),
      // though @azure/cosmos's DeleteOperationInput type leaves it out.
      { operationType: "Delete", id: doc.id, partitionKey: doc.pk, ifMatch: doc._etag } as OperationInput,
      ...creates.map((d): OperationInput => ({ operationType: "Create", partitionKey: doc.pk, resourceBody: d as unknown as JSONObject })),
    ],
    doc.pk,
  );
  if (batchSucceeded(response, creates.length + 1)) return true;
  const failed = batchFailure(response);
  if (failed.index === 0 && (failed.status === 412 || failed.status === 404)) return false;
  throw new Error(`Deleting ${doc.kind} ${doc.id} failed: batch answered ${batchAnswer(response)}.`);
}
