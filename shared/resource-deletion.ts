import { Errors } from "./errors.js";
import { Operations } from "./operations/operations.js";
import type { ImageDocument, ManifestDocument, ModelDocument, OperationDocument, WithEtag } from "./store/documents.js";
import type { Reference } from "./store/references.js";

/** What deletes read and write, declared here: the Cosmos repositories are one implementation. */
export interface ResourceDeletionDeps {
  models: {
    get(pk: string, id: string): Promise<WithEtag<ModelDocument> | undefined>;
    delete(model: WithEtag<ModelDocument>, purge: OperationDocument | undefined): Promise<boolean>;
  };
  manifests: {
    get(pk: string, id: string): Promise<WithEtag<ManifestDocument> | undefined>;
    delete(manifest: WithEtag<ManifestDocument>, purge: OperationDocument | undefined): Promise<boolean>;
    usingModel(pk: string, modelId: string): Promise<Reference[]>;
  };
  images: {
    get(pk: string, id: string): Promise<WithEtag<ImageDocument> | undefined>;
    delete(image: WithEtag<ImageDocument>, purge: OperationDocument): Promise<boolean>;
    usingManifest(pk: string, manifestId: string): Promise<Reference[]>;
  };
  services: {
    usingImage(pk: string, imageId: string): Promise<Reference[]>;
    rollingOut(pk: string, imageId: string): Promise<Reference[]>;
  };
  /** Whether a model's URL is a blob of the service's own storage (then deleting the model may release it). */
  ownsBlob(url: string): boolean;
}

/** The outcome of a delete: nothing there, or deleted (with the purge of what it left in storage, if any). */
export type Deletion = { deleted: false } | { deleted: true; purge?: OperationDocument };

/** Where a deleted resource was: its API path, which its purge operation names. */
type ResourcePath = (id: string) => string;

/** How often a delete reads again when a reference was added (or the document changed) while it checked. */
const ATTEMPTS = 20;

/**
 * The rules of deleting models, manifests and images: a resource still referenced is not deleted
 * (409 ResourceInUse, naming what refers to it). The check and the delete are made safe against
 * a reference added meanwhile by ETags: the delete is conditional on the document as read, and
 * every write that adds a reference rewrites the referenced document in its own batch, so one of
 * the two fails and reads again. Version counters are kept: a deleted version number is never
 * given again.
 */
export async function deleteModel(deps: ResourceDeletionDeps, pk: string, id: string, pathOf: ResourcePath): Promise<Deletion> {
  return deleteChecked({
    read: () => deps.models.get(pk, id),
    users: async () => deps.manifests.usingModel(pk, id),
    what: (m) => `model ${m.name} v${m.version} (${m.id})`,
    purgeOf: (m) =>
      deps.ownsBlob(m.url) ? Operations.create("Purge", pk, { id, path: pathOf(id) }, { purge: { model: { id, url: m.url } } }) : undefined,
    remove: (m, purge) => deps.models.delete(m, purge),
  });
}

/** A manifest's files that `mm` uploaded to the service's own storage go with it, when nothing else names them. */
export async function deleteManifest(deps: ResourceDeletionDeps, pk: string, id: string, pathOf: ResourcePath): Promise<Deletion> {
  return deleteChecked({
    read: () => deps.manifests.get(pk, id),
    users: async () => deps.images.usingManifest(pk, id),
    what: (m) => `manifest ${m.name} v${m.version} (${m.id})`,
    purgeOf: (m) => {
      const files = [...m.assets.map((a) => a.url), ...Object.values(m.targetRuntime.properties)];
      const urls = [...new Set(files.filter((u) => deps.ownsBlob(u)))];
      return urls.length > 0 ? Operations.create("Purge", pk, { id, path: pathOf(id) }, { purge: { manifest: { id, urls } } }) : undefined;
    },
    remove: (m, purge) => deps.manifests.delete(m, purge),
  });
}

/** An image is in use while services run it, rollouts roll it out, or its own build runs. */
export async function deleteImage(deps: ResourceDeletionDeps, pk: string, id: string, pathOf: ResourcePath): Promise<Deletion> {
  return deleteChecked({
    read: () => deps.images.get(pk, id),
    users: async (image) => {
      const building: Reference[] =
        image.creationState === "NotStarted" || image.creationState === "Running"
          ? [{ kind: "image build operation", id: image.operationId }]
          : [];
      const [services, rollouts] = await Promise.all([deps.services.usingImage(pk, id), deps.services.rollingOut(pk, id)]);
      return [...building, ...services, ...rollouts.map((r) => ({ ...r, kind: "rollout (deployment)" }))];
    },
    what: (i) => `image ${i.name} v${i.version} (${i.id})`,
    purgeOf: (i) =>
      Operations.create(
        "Purge",
        pk,
        { id, path: pathOf(id) },
        {
          purge: {
            image: {
              id,
              name: i.name,
              version: i.version,
              computeResourceId: i.computeResourceId,
              ...(i.digest ? { digest: i.digest } : {}),
              ...(i.imageLocation ? { imageLocation: i.imageLocation } : {}),
            },
          },
        },
      ),
    remove: (i, purge) => deps.images.delete(i, purge!),
  });
}

async function deleteChecked<T extends { id: string }>(steps: {
  read(): Promise<WithEtag<T> | undefined>;
  users(doc: WithEtag<T>): Promise<Reference[]>;
  what(doc: T): string;
  purgeOf(doc: T): OperationDocument | undefined;
  remove(doc: WithEtag<T>, purge: OperationDocument | undefined): Promise<boolean>;
}): Promise<Deletion> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const doc = await steps.read();
    if (!doc) return { deleted: false };
    const users = await steps.users(doc);
    if (users.length > 0) throw Errors.resourceInUse(steps.what(doc), users);
    const purge = steps.purgeOf(doc);
    if (await steps.remove(doc, purge)) return { deleted: true, ...(purge ? { purge } : {}) };
  }
  throw Errors.tooMuchContention("the delete");
}
