import type { Container } from "@azure/cosmos";
import type { ManifestDocument } from "./documents.js";
import { queryPage, type Page } from "./pagination.js";
import { createVersioned } from "./versioning.js";

export interface ManifestFilters {
  modelId?: string;
  manifestName?: string;
}

export class ManifestRepository {
  constructor(private readonly container: Container) {}

  create(pk: string, build: (version: number) => ManifestDocument, name: string): Promise<ManifestDocument> {
    return createVersioned(this.container, pk, "manifest", name, build);
  }

  async get(pk: string, id: string): Promise<ManifestDocument | undefined> {
    const { resource } = await this.container.item(id, pk).read<ManifestDocument>();
    return resource?.kind === "manifest" ? resource : undefined;
  }

  /** Newest first. */
  list(pk: string, filters: ManifestFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ManifestDocument>> {
    const where = ["c.pk = @pk", "c.kind = 'manifest'"];
    const parameters = [{ name: "@pk", value: pk }];
    if (filters.modelId !== undefined) {
      where.push("ARRAY_CONTAINS(c.modelIds, @modelId)");
      parameters.push({ name: "@modelId", value: filters.modelId });
    }
    if (filters.manifestName !== undefined) {
      where.push("c.name = @name");
      parameters.push({ name: "@name", value: filters.manifestName });
    }
    return queryPage<ManifestDocument>(
      this.container,
      { query: `SELECT * FROM c WHERE ${where.join(" AND ")} ORDER BY c.createdTime DESC`, parameters },
      { pageSize, skipToken, partitionKey: pk, queryKey: `manifests|${JSON.stringify([filters.modelId ?? null, filters.manifestName ?? null])}` },
    );
  }
}
