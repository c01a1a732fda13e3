import type { Container, JSONObject } from "@azure/cosmos";
import type { StoredDocument, WithEtag } from "./documents.js";
import { runBatch } from "./document-io.js";

/**
 * Replaces documents of one partition together, each only if unchanged since it was read
 * (transactional batch, ETag conditions). False when any changed meanwhile: nothing was written.
 */
export async function replaceTogether(container: Container, pk: string, docs: WithEtag<StoredDocument>[]): Promise<boolean> {
  const response = await runBatch(
    container,
    docs.map((d) => {
      const { _etag, ...body } = d as WithEtag<StoredDocument> & Record<string, unknown>;
      return { operationType: "Replace" as const, id: d.id, partitionKey: pk, ifMatch: _etag, resourceBody: body as unknown as JSONObject };
    }),
    pk,
  );
  const results = response.result ?? [];
  if (results.length === docs.length && results.every((r) => r.statusCode >= 200 && r.statusCode < 300)) return true;
  if (results.some((r) => r.statusCode === 412) || response.code === 412) return false;
  throw new Error(
    `Replacing ${docs.map((d) => `${d.kind} ${d.id}`).join(", ")} failed: batch answered ${results.map((r) => r.statusCode).join(", ") || response.code}.`,
  );
}
