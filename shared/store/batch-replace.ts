import type { Container } from "@azure/cosmos";
import type { StoredDocument, WithEtag } from "./documents.js";
import { batchAnswer, batchFailure, batchSucceeded, conditionalReplace, runBatch } from "./document-io.js";

/**
 * Replaces documents of one partition together, each only if unchanged since it was read
 * (transactional batch, ETag conditions). False when any changed meanwhile: nothing was written.
 */
export async function replaceTogether(container: Container, pk: string, docs: WithEtag<StoredDocument>[]): Promise<boolean> {
  const response = await runBatch(container, docs.map(conditionalReplace), pk);
  if (batchSucceeded(response, docs.length)) return true;
  if (batchFailure(response).status === 412) return false;
  throw new Error(`Replacing ${docs.map((d) => `${d.kind} ${d.id}`).join(", ")} failed: batch answered ${batchAnswer(response)}.`);
}
