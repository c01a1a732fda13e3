import type { Container } from "@azure/cosmos";
import type { ImageDocument, OperationDocument } from "./documents.js";
import { queryPage, type Page } from "./pagination.js";
import { createVersioned } from "./versioning.js";
import type { Versioned } from "./batch-replace.js";

export interface ImageFilters {
  manifestId?: string;
  manifestName?: string;
}

export class ImageRepository {
  constructor(private readonly container: Container) {}

  /** Stores the image under the next version of its name, and its operation, in one batch. */
  create(pk: string, name: string, build: (version: number) => ImageDocument, operation: (image: ImageDocument) => OperationDocument): Promise<ImageDocument> {
    return createVersioned(this.container, pk, "image", name, build, (image) => [operation(image)]);
  }

  async get(pk: string, id: string): Promise<Versioned<ImageDocument> | undefined> {
    const { resource } = await this.container.item(id, pk).read<Versioned<ImageDocument>>();
    return resource?.kind === "image" ? resource : undefined;
  }

  /** Newest first. */
  list(pk: string, filters: ImageFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ImageDocument>> {
    const where = ["c.pk = @pk", "c.kind = 'image'"];
    const parameters = [{ name: "@pk", value: pk }];
    if (filters.manifestId !== undefined) {
      where.push("c.manifestId = @manifestId");
      parameters.push({ name: "@manifestId", value: filters.manifestId });
    }
    if (filters.manifestName !== undefined) {
      where.push("c.manifestName = @manifestName");
      parameters.push({ name: "@manifestName", value: filters.manifestName });
    }
    return queryPage<ImageDocument>(
      this.container,
      { query: `SELECT * FROM c WHERE ${where.join(" AND ")} ORDER BY c.createdTime DESC`, parameters },
      { pageSize, skipToken, partitionKey: pk, queryKey: `images|${JSON.stringify([filters.manifestId ?? null, filters.manifestName ?? null])}` },
    );
  }
}
