import type { Container, OperationInput, OperationResponse, Response } from "@azure/cosmos";
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
