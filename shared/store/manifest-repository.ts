import type { Container } from "@azure/cosmos";
import type { ManifestDocument } from "./documents.js";
import type { Page } from "./pagination.js";
import { readOfKind } from "./document-io.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import { createVersioned } from "./versioning.js";

interface ManifestFilters {
  modelId?: string;
  manifestName?: string;
}

export class ManifestRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  create(pk: string, build: (version: number) => ManifestDocument, name: string): Promise<ManifestDocument> {
    return createVersioned(this.container, pk, "manifest", name, build);
  }

  get(pk: string, id: string): Promise<ManifestDocument | undefined> {
    return readOfKind<ManifestDocument>(this.container, pk, id, "manifest");
  }

  /** Newest first. */
  list(pk: string, filters: ManifestFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ManifestDocument>> {
    return filteredList<ManifestDocument>(
      this.pages,
      pk,
      "manifest",
      [
        { sql: "ARRAY_CONTAINS(c.modelIds, @modelId)", param: "@modelId", value: filters.modelId },
        { sql: "c.name = @name", param: "@name", value: filters.manifestName },
      ],
      "c.createdTime DESC",
      { pageSize, skipToken },
    );
  }
}
