import type { Container } from "@azure/cosmos";
import type { OperationDocument } from "./documents.js";
import type { Versioned } from "./batch-replace.js";
import { readOfKind, replaceIfUnchanged } from "./document-io.js";

export class OperationRepository {
  constructor(private readonly container: Container) {}

  get(pk: string, id: string): Promise<Versioned<OperationDocument> | undefined> {
    return readOfKind<OperationDocument>(this.container, pk, id, "operation");
  }

  /** Replaces the operation if unchanged since read; undefined when it changed meanwhile. */
  replace(op: Versioned<OperationDocument>): Promise<Versioned<OperationDocument> | undefined> {
    return replaceIfUnchanged(this.container, op);
  }

  /**
   * Unfinished operations (NotStarted or Running) whose worker has shown no sign of life since
   * `before`: across all accounts, the sweeper's one cross-partition query.
   */
  async listStalled(before: string, limit: number): Promise<Versioned<OperationDocument>[]> {
    const { resources } = await this.container.items
      .query<Versioned<OperationDocument>>(
        {
          query:
            "SELECT * FROM c WHERE c.kind = 'operation' AND (c.state = 'NotStarted' OR c.state = 'Running') AND ((IS_DEFINED(c.heartbeatAt) AND c.heartbeatAt < @before) OR (NOT IS_DEFINED(c.heartbeatAt) AND c.createdTime < @before))",
          parameters: [{ name: "@before", value: before }],
        },
        { maxItemCount: limit },
      )
      .fetchNext();
    return resources;
  }
}
