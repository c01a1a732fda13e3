import { randomUUID } from "node:crypto";
import type { HttpHandler } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { nextLink } from "../../shared/http/request.js";
import { DEFAULT_PAGE_SIZE } from "../../shared/schemas/common.js";
import { imageListQuery, imageRequest } from "../../shared/schemas/images.js";
import { imageView } from "../../shared/views.js";
import { Errors } from "../../shared/errors.js";
import type { ImageDocument, ManifestDocument, OperationDocument } from "../../shared/store/documents.js";
import { Operations } from "../../shared/operations/operations.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import type { Page } from "../../shared/store/pagination.js";
import { apiPrefix, apiUrl } from "./api-urls.js";

/** What the image endpoints use; the Cosmos repositories and the operations module are one implementation. */
export interface ImageEndpointDeps extends EndpointDeps {
  config: { computeTargets: string[] };
  manifests: { get(pk: string, id: string): Promise<ManifestDocument | undefined> };
  images: {
    /** Stores the image under the next version of its name, with its operation, in one write. */
    create(
      pk: string,
      name: string,
      manifestId: string,
      build: (version: number) => ImageDocument,
      operation: OperationDocument,
    ): Promise<ImageDocument>;
    get(pk: string, id: string): Promise<ImageDocument | undefined>;
    list(
      pk: string,
      filters: { manifestId?: string; manifestName?: string },
      pageSize: number,
      skipToken: string | undefined,
    ): Promise<Page<ImageDocument>>;
  };
  operations: { enqueue(op: OperationDocument, warn: (message: string) => void): Promise<void> };
}

type Deps = () => Promise<ImageEndpointDeps>;

/**
 * 7 `POST {account}/images`: checks the manifest and the compute resource, writes the image
 * (NotStarted, the next version of its name) and its operation in one batch, enqueues the build
 * and answers 202 with `Operation-Location`.
 */
export const makeCreateImage = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: imageRequest,
    run: async ({ request, context, deps, path, pk, body }) => {
      const manifest = await deps.manifests.get(pk, body.manifestId);
      if (!manifest) throw Errors.manifestNotInAccount(body.manifestId);
      if (!deps.config.computeTargets.includes(body.computeResourceId))
        throw Errors.unknownComputeResource(body.computeResourceId, deps.config.computeTargets);
      const imageId = randomUUID();
      const operation = Operations.create("Image", pk, { id: imageId, path: `${apiPrefix(request)}/${path}/images/${imageId}` });
      await deps.images.create(
        pk,
        body.name,
        manifest.id,
        (version): ImageDocument => ({
          id: imageId,
          pk,
          kind: "image",
          name: body.name,
          version,
          ...(body.description !== undefined ? { description: body.description } : {}),
          computeResourceId: body.computeResourceId,
          imageType: body.imageType,
          manifestId: manifest.id,
          manifestName: manifest.name,
          createdTime: operation.createdTime,
          creationState: "NotStarted",
          operationId: operation.id,
        }),
        operation,
      );
      await deps.operations.enqueue(operation, (m) => context.warn(m));
      return { status: 202, headers: { "operation-location": apiUrl(request, `${path}/operations/${operation.id}`) } };
    },
  });

/** 8 `GET {account}/images`: filters `manifestId`, `manifestName`; newest first. */
export const makeListImages = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    query: imageListQuery,
    run: async ({ request, deps, pk, query }) => {
      const page = await deps.images.list(
        pk,
        { manifestId: query.manifestId, manifestName: query.manifestName },
        query.count ?? DEFAULT_PAGE_SIZE,
        query.$skipToken,
      );
      const manifests = new Map<string, ManifestDocument | undefined>();
      for (const id of new Set(page.items.map((i) => i.manifestId))) manifests.set(id, await deps.manifests.get(pk, id));
      const link = nextLink(request, page.nextSkipToken);
      return json(200, { value: page.items.map((i) => imageView(i, manifests.get(i.manifestId))), ...(link ? { nextLink: link } : {}) });
    },
  });

/** 9 `GET {account}/images/{id}`, with its manifest embedded. */
export const makeGetImage = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const image = await deps.images.get(pk, id);
      if (!image) throw Errors.imageNotFound(id);
      return json(200, imageView(image, await deps.manifests.get(pk, image.manifestId)));
    },
  });
