import type { Container } from "@azure/cosmos";
import type { ModelDocument } from "./documents.js";
import type { Page } from "./pagination.js";
import { readOfKind } from "./document-io.js";
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

  get(pk: string, id: string): Promise<ModelDocument | undefined> {
    return readOfKind<ModelDocument>(this.container, pk, id, "model");
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
