import type { Container } from "@azure/cosmos";
import type { OperationDocument, StoredDocument, WithEtag } from "./documents.js";
import { readOfKind, replaceIfUnchanged } from "./document-io.js";
import { replaceTogether } from "./batch-replace.js";

export class OperationRepository {
  constructor(private readonly container: Container) {}

  get(pk: string, id: string): Promise<WithEtag<OperationDocument> | undefined> {
    return readOfKind<OperationDocument>(this.container, pk, id, "operation");
  }

  /** Replaces the operation if unchanged since read; undefined when it changed meanwhile. */
  replace(op: WithEtag<OperationDocument>): Promise<WithEtag<OperationDocument> | undefined> {
    return replaceIfUnchanged(this.container, op);
  }

  /**
   * Writes the operation and documents of its resource together (one transactional batch in the
   * account's partition), each only if unchanged since it was read. False when any changed
   * meanwhile: then nothing was written.
   */
  commit(op: WithEtag<OperationDocument>, resources: WithEtag<StoredDocument>[]): Promise<boolean> {
    return replaceTogether(this.container, op.pk, [op, ...resources]);
  }

  /** Writes an operation that no resource's write carries (a purge scheduled by another); one already there is left as it is. */
  async create(op: OperationDocument): Promise<void> {
    try {
      await this.container.items.create(op);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 409) throw err;
    }
  }

  /**
   * Unfinished operations (NotStarted or Running) whose worker has shown no sign of life since
   * `before`: across all accounts, the sweeper's one cross-partition query.
   */
  async listStalled(before: string, now: string, limit: number): Promise<WithEtag<OperationDocument>[]> {
    const { resources } = await this.container.items
      .query<WithEtag<OperationDocument>>(
        {
          query:
            "SELECT * FROM c WHERE c.kind = 'operation' AND (c.state = 'NotStarted' OR c.state = 'Running') AND ((IS_DEFINED(c.heartbeatAt) AND c.heartbeatAt < @before) OR (NOT IS_DEFINED(c.heartbeatAt) AND c.createdTime < @before)) AND (NOT IS_DEFINED(c.notBefore) OR c.notBefore < @now)",
          parameters: [
            { name: "@before", value: before },
            { name: "@now", value: now },
          ],
        },
        { maxItemCount: limit },
      )
      .fetchNext();
    return resources;
  }
}
