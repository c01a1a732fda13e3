import type { Container } from "@azure/cosmos";
import type { ModelDocument } from "./documents.js";
import { queryPage, type Page } from "./pagination.js";
import { createVersioned } from "./versioning.js";

export interface ModelFilters {
  name?: string;
  tag?: string;
}

export class ModelRepository {
  constructor(private readonly container: Container) {}

  /** Stores a model under the next version of its name. */
  register(pk: string, build: (version: number) => ModelDocument, name: string): Promise<ModelDocument> {
    return createVersioned(this.container, pk, "model", name, build);
  }

  async get(pk: string, id: string): Promise<ModelDocument | undefined> {
    const { resource } = await this.container.item(id, pk).read<ModelDocument>();
    return resource?.kind === "model" ? resource : undefined;
  }

  /** Which of these ids are models of the account. */
  async existingIds(pk: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { resources } = await this.container.items
      .query<string>({ query: "SELECT VALUE c.id FROM c WHERE c.pk = @pk AND c.kind = 'model' AND ARRAY_CONTAINS(@ids, c.id)", parameters: [{ name: "@pk", value: pk }, { name: "@ids", value: ids }] }, { partitionKey: pk })
      .fetchAll();
    return new Set(resources);
  }

  /** Newest first. */
  list(pk: string, filters: ModelFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ModelDocument>> {
    const where = ["c.pk = @pk", "c.kind = 'model'"];
    const parameters = [{ name: "@pk", value: pk }];
    if (filters.name !== undefined) {
      where.push("c.name = @name");
      parameters.push({ name: "@name", value: filters.name });
    }
    if (filters.tag !== undefined) {
      where.push("ARRAY_CONTAINS(c.tags, @tag)");
      parameters.push({ name: "@tag", value: filters.tag });
    }
    return queryPage<ModelDocument>(
      this.container,
      { query: `SELECT * FROM c WHERE ${where.join(" AND ")} ORDER BY c.createdAt DESC`, parameters },
      { pageSize, skipToken, partitionKey: pk, queryKey: `models|${JSON.stringify([filters.name ?? null, filters.tag ?? null])}` },
    );
  }
}
