import type { Container } from "@azure/cosmos";
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
