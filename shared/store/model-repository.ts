import type { Container } from "@azure/cosmos";
import type { ModelDocument, OperationDocument, WithEtag } from "./documents.js";
import type { Page } from "./pagination.js";
import { countWhere, deleteIfUnchanged, readOfKind } from "./document-io.js";
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
  countWithUrl(pk: string, url: string): Promise<number> {
    return countWhere(this.container, pk, "c.kind = 'model' AND c.url = @url", [{ name: "@url", value: url }]);
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
