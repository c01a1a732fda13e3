import type { HttpHandler, HttpRequest, InvocationContext } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import { deleteImage, deleteManifest, deleteModel, type Deletion, type ResourceDeletionDeps } from "../../shared/resource-deletion.js";
import type { OperationDocument } from "../../shared/store/documents.js";
import { apiPrefix } from "./api-urls.js";

/** What the delete endpoints use; the Cosmos repositories and the operations module are one implementation. */
export interface DeleteEndpointDeps extends EndpointDeps, ResourceDeletionDeps {
  operations: { runNow(op: OperationDocument, warn: (message: string) => void): Promise<void> };
}

type Deps = () => Promise<DeleteEndpointDeps>;

/**
 * The purge of what a deleted resource left in storage runs at once, so that storage is released
 * when the DELETE answers. It was written with the delete: should it fail here (or the process
 * die), the sweeper takes it up, so the answer stays 200: the resource is deleted.
 */
async function finish(deletion: Deletion, deps: DeleteEndpointDeps, context: InvocationContext) {
  if (!deletion.deleted) return { status: 204 };
  if (deletion.purge) await deps.operations.runNow(deletion.purge, (m) => context.warn(m));
  return { status: 200 };
}

const resourcePath = (request: HttpRequest, path: string, collection: string) => (id: string) =>
  `${apiPrefix(request)}/${path}/${collection}/${id}`;

/** `DELETE {account}/models/{id}`: 200, or 204 when there is none; 409 while a manifest uses it. */
export const makeDeleteModel = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, context, deps, path, pk }) =>
      finish(await deleteModel(deps, pk, request.params.id ?? "", resourcePath(request, path, "models")), deps, context),
  });

/** `DELETE {account}/manifests/{id}`: 200, or 204 when there is none; 409 while an image was made from it. */
export const makeDeleteManifest = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, context, deps, path, pk }) =>
      finish(await deleteManifest(deps, pk, request.params.id ?? "", resourcePath(request, path, "manifests")), deps, context),
  });

/** `DELETE {account}/images/{id}`: 200, or 204 when there is none; 409 while it is built, rolled out or run by a service. */
export const makeDeleteImage = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, context, deps, path, pk }) =>
      finish(await deleteImage(deps, pk, request.params.id ?? "", resourcePath(request, path, "images")), deps, context),
  });
