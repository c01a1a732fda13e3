import type { Container } from "@azure/cosmos";
import type { ManifestDocument, ModelDocument, OperationDocument, WithEtag } from "./documents.js";
import { Errors } from "../errors.js";
import type { Page } from "./pagination.js";
import { countWhere, deleteIfUnchanged, readOfKind } from "./document-io.js";
import { referencesTo, type Reference } from "./references.js";
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

  /**
   * Stores the manifest under the next version of its name. Its models are checked in the same
   * write: a model deleted meanwhile fails the create (ModelNotRegistered), never leaves a
   * manifest that refers to nothing.
   */
  create(pk: string, build: (version: number) => ManifestDocument, name: string, modelIds: string[]): Promise<ManifestDocument> {
    return createVersioned(this.container, pk, "manifest", name, build, {
      references: async () => {
        const models = await Promise.all(modelIds.map((id) => readOfKind<ModelDocument>(this.container, pk, id, "model")));
        const missing = modelIds.filter((_, i) => !models[i]);
        if (missing.length > 0) throw Errors.modelsNotRegistered(missing);
        return models as WithEtag<ModelDocument>[];
      },
    });
  }

  get(pk: string, id: string): Promise<WithEtag<ManifestDocument> | undefined> {
    return readOfKind<ManifestDocument>(this.container, pk, id, "manifest");
  }

  /** Deletes the manifest if unchanged since read (no image was made from it meanwhile); false when it changed. */
  delete(manifest: WithEtag<ManifestDocument>, purge: OperationDocument | undefined): Promise<boolean> {
    return deleteIfUnchanged(this.container, manifest, purge ? [purge] : []);
  }

  /** How many manifests of the account name this URL (as an asset, or as a pip or conda file). */
  countUsingUrl(pk: string, url: string): Promise<number> {
    return countWhere(
      this.container,
      pk,
      "c.kind = 'manifest' AND (ARRAY_CONTAINS(c.assets, { url: @url }, true) OR c.targetRuntime.properties.pipRequirements = @url OR c.targetRuntime.properties.condaEnvFile = @url)",
      [{ name: "@url", value: url }],
    );
  }

  /** Manifests that use a model (a few, to name them). */
  usingModel(pk: string, modelId: string): Promise<Reference[]> {
    return referencesTo(this.container, pk, "manifest", "ARRAY_CONTAINS(c.modelIds, @id)", modelId);
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
