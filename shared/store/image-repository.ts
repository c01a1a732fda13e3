import type { Container } from "@azure/cosmos";
import type { ImageDocument, OperationDocument } from "./documents.js";
import type { Page } from "./pagination.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import { createVersioned } from "./versioning.js";
import type { WithEtag } from "./documents.js";
import { readOfKind } from "./document-io.js";

interface ImageFilters {
  manifestId?: string;
  manifestName?: string;
}

export class ImageRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  /** Stores the image under the next version of its name, and its operation, in one batch. */
  create(pk: string, name: string, build: (version: number) => ImageDocument, operation: OperationDocument): Promise<ImageDocument> {
    return createVersioned(this.container, pk, "image", name, build, () => [operation]);
  }

  get(pk: string, id: string): Promise<WithEtag<ImageDocument> | undefined> {
    return readOfKind<ImageDocument>(this.container, pk, id, "image");
  }

  /** Newest first. */
  list(pk: string, filters: ImageFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ImageDocument>> {
    return filteredList<ImageDocument>(
      this.pages,
      pk,
      "image",
      [
        { sql: "c.manifestId = @manifestId", param: "@manifestId", value: filters.manifestId },
        { sql: "c.manifestName = @manifestName", param: "@manifestName", value: filters.manifestName },
      ],
      "c.createdTime DESC",
      { pageSize, skipToken },
    );
  }
}
