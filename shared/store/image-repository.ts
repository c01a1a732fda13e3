import type { Container } from "@azure/cosmos";
import type { ImageDocument, ManifestDocument, OperationDocument } from "./documents.js";
import { Errors } from "../errors.js";
import type { Page } from "./pagination.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import { createVersioned } from "./versioning.js";
import type { WithEtag } from "./documents.js";
import { deleteIfUnchanged, readOfKind } from "./document-io.js";
import { referencesTo, type Reference } from "./references.js";

interface ImageFilters {
  manifestId?: string;
  manifestName?: string;
}

export class ImageRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  /**
   * Stores the image under the next version of its name, and its operation, in one batch, with
   * its manifest checked in the same write (a manifest deleted meanwhile fails it: ManifestNotFound).
   */
  create(
    pk: string,
    name: string,
    manifestId: string,
    build: (version: number) => ImageDocument,
    operation: OperationDocument,
  ): Promise<ImageDocument> {
    return createVersioned(this.container, pk, "image", name, build, {
      companions: () => [operation],
      references: async () => {
        const manifest = await readOfKind<ManifestDocument>(this.container, pk, manifestId, "manifest");
        if (!manifest) throw Errors.manifestNotInAccount(manifestId);
        return [manifest];
      },
    });
  }

  /** Deletes the image if unchanged since read (no service took it up meanwhile), with the purge of its storage; false when it changed. */
  delete(image: WithEtag<ImageDocument>, purge: OperationDocument): Promise<boolean> {
    return deleteIfUnchanged(this.container, image, [purge]);
  }

  /** The ids of every image of a partition (a deleted account's). */
  async idsIn(pk: string): Promise<string[]> {
    const { resources } = await this.container.items
      .query<string>(
        {
          query: "SELECT VALUE c.id FROM c WHERE c.pk = @pk AND c.kind = 'image'",
          parameters: [{ name: "@pk", value: pk }],
        },
        { partitionKey: pk },
      )
      .fetchAll();
    return resources;
  }

  /** Images made from a manifest (a few, to name them). */
  usingManifest(pk: string, manifestId: string): Promise<Reference[]> {
    return referencesTo(this.container, pk, "image", "c.manifestId = @id", manifestId);
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
