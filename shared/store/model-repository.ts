import type { Container } from "@azure/cosmos";
import type { ModelDocument, OperationDocument, WithEtag } from "./documents.js";
import type { Page } from "./pagination.js";
import { deleteIfUnchanged, readOfKind } from "./document-io.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import { createVersioned } from "./versioning.js";

interface ModelFilters {
  name?: string;
  tag?: string;
}

export class ModelRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  /** Stores a model under the next version of its name. */
  register(pk: string, build: (version: number) => ModelDocument, name: string): Promise<ModelDocument> {
    return createVersioned(this.container, pk, "model", name, build);
  }

  get(pk: string, id: string): Promise<WithEtag<ModelDocument> | undefined> {
    return readOfKind<ModelDocument>(this.container, pk, id, "model");
  }

  /** Deletes the model if unchanged since read (no reference was added), with the purge of what it leaves; false when it changed. */
  delete(model: WithEtag<ModelDocument>, purge: OperationDocument | undefined): Promise<boolean> {
    return deleteIfUnchanged(this.container, model, purge ? [purge] : []);
  }

  /** How many models of the account were registered from this URL. */
  async countWithUrl(pk: string, url: string): Promise<number> {
    const { resources } = await this.container.items
      .query<number>(
        {
          query: "SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk AND c.kind = 'model' AND c.url = @url",
          parameters: [
            { name: "@pk", value: pk },
            { name: "@url", value: url },
          ],
        },
        { partitionKey: pk },
      )
      .fetchAll();
    return resources[0] ?? 0;
  }

  /** Which of these ids are models of the account. */
  async existingIds(pk: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { resources } = await this.container.items
      .query<string>(
        {
          query: "SELECT VALUE c.id FROM c WHERE c.pk = @pk AND c.kind = 'model' AND ARRAY_CONTAINS(@ids, c.id)",
          parameters: [
            { name: "@pk", value: pk },
            { name: "@ids", value: ids },
          ],
        },
        { partitionKey: pk },
      )
      .fetchAll();
    return new Set(resources);
  }

  /** Newest first. */
  list(pk: string, filters: ModelFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ModelDocument>> {
    return filteredList<ModelDocument>(
      this.pages,
      pk,
      "model",
      [
        { sql: "c.name = @name", param: "@name", value: filters.name },
        { sql: "ARRAY_CONTAINS(c.tags, @tag)", param: "@tag", value: filters.tag },
      ],
      "c.createdAt DESC",
      { pageSize, skipToken },
    );
  }
}
