import { randomUUID } from "node:crypto";
import type { HttpHandler } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { nextLink } from "../../shared/http/request.js";
import { DEFAULT_PAGE_SIZE, contentUrl } from "../../shared/schemas/common.js";
import { ENVIRONMENT_FILES } from "../../shared/image-building/environment-files.js";
import { manifestListQuery, manifestRequest } from "../../shared/schemas/manifests.js";
import { manifestView } from "../../shared/views.js";
import { Errors } from "../../shared/errors.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import type { ManifestDocument } from "../../shared/store/documents.js";
import type { Page } from "../../shared/store/pagination.js";

/** What the manifest endpoints use; the Cosmos repositories are one implementation. */
export interface ManifestEndpointDeps extends EndpointDeps {
  manifests: {
    /** Stores the manifest under the next version of its name; ModelNotRegistered when a model went meanwhile. */
    create(pk: string, build: (version: number) => ManifestDocument, name: string, modelIds: string[]): Promise<ManifestDocument>;
    get(pk: string, id: string): Promise<ManifestDocument | undefined>;
    list(
      pk: string,
      filters: { modelId?: string; manifestName?: string },
      pageSize: number,
      skipToken: string | undefined,
    ): Promise<Page<ManifestDocument>>;
  };
}

type Deps = () => Promise<ManifestEndpointDeps>;

/**
 * 4 `POST {account}/manifests`: the driver program and its assets with registered models.
 * Fails (400) naming every modelId not registered in the account, and when driverProgram is
 * not the id of one of the assets.
 */
export const makeCreateManifest = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: manifestRequest,
    run: async ({ deps, pk, body }) => {
      const assetIds = body.assets.map((a) => a.id);
      if (!assetIds.includes(body.driverProgram)) throw Errors.driverProgramNotAnAsset(body.driverProgram, assetIds);
      // The image build installs these files (pip or conda): each names an asset, or is a URL
      // the build fetches (what the 2017 CLI sent).
      for (const property of Object.keys(ENVIRONMENT_FILES)) {
        const file = body.targetRuntime.properties[property];
        if (file !== undefined && !assetIds.includes(file) && !contentUrl.safeParse(file).success)
          throw Errors.runtimeFileNotAnAsset(property, file);
      }
      // The repository checks the models in the write itself (ModelNotRegistered, naming each missing one).
      const modelIds = [...new Set(body.modelIds ?? [])];
      const id = randomUUID();
      const createdTime = new Date().toISOString();
      const manifest = await deps.manifests.create(
        pk,
        (version) => ({
          id,
          pk,
          kind: "manifest",
          name: body.name,
          version,
          ...(body.description !== undefined ? { description: body.description } : {}),
          driverProgram: body.driverProgram,
          assets: body.assets,
          modelIds,
          modelType: "Registered",
          targetRuntime: body.targetRuntime,
          webserviceType: "Realtime",
          createdTime,
        }),
        body.name,
        modelIds,
      );
      return json(200, manifestView(manifest));
    },
  });

/** 5 `GET {account}/manifests`: filters `modelId`, `manifestName`; newest first. */
export const makeListManifests = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    query: manifestListQuery,
    run: async ({ request, deps, pk, query }) => {
      const page = await deps.manifests.list(
        pk,
        { modelId: query.modelId, manifestName: query.manifestName },
        query.count ?? DEFAULT_PAGE_SIZE,
        query.$skipToken,
      );
      const link = nextLink(request, page.nextSkipToken);
      return json(200, { value: page.items.map(manifestView), ...(link ? { nextLink: link } : {}) });
    },
  });

/** 6 `GET {account}/manifests/{id}`. */
export const makeGetManifest = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const manifest = await deps.manifests.get(pk, id);
      if (!manifest) throw Errors.manifestNotFound(id);
      return json(200, manifestView(manifest));
    },
  });
