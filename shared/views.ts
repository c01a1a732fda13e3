import type {
  AccountDocument,
  DeploymentDocument,
  ImageDocument,
  ManifestDocument,
  ModelDocument,
  OperationDocument,
  RoleAssignment,
  ServiceDocument,
} from "./store/documents.js";
import { API_VERSION } from "./schemas/api-version.js";
import type { z } from "zod";
import type * as Responses from "./schemas/responses.js";

/** The body a response schema describes. */
type Body<S extends z.ZodType> = z.input<S>;

/** What the API shows of each stored document: the contract's fields, in its order, nothing internal. */

/**
 * A URL as the API shows it: a SAS signature (`sig`) replaced by `REDACTED`. The store keeps the
 * signed URL (the build fetches with it), but anyone who can read the resource — a Reader too —
 * would otherwise get the credential. The other SAS fields (expiry, permissions) stay visible.
 */
export function redactedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (!url.searchParams.has("sig")) return raw;
  url.searchParams.set("sig", "REDACTED");
  return url.toString();
}

/** A manifest property that may be a URL (pip and conda files, as the 2017 CLI sent them). */
const redactedProperties = (properties: Record<string, string>) =>
  Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, /^https?:/i.test(v) ? redactedUrl(v) : v]));

export function modelView(m: ModelDocument): Body<typeof Responses.model> {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.tags !== undefined ? { tags: m.tags } : {}),
    mimeType: m.mimeType,
    ...(m.unpack !== undefined ? { unpack: m.unpack } : {}),
    url: redactedUrl(m.url),
    createdAt: m.createdAt,
  };
}

export function manifestView(m: ManifestDocument): Body<typeof Responses.manifest> {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    ...(m.description !== undefined ? { description: m.description } : {}),
    driverProgram: m.driverProgram,
    assets: m.assets.map((a) => ({ ...a, url: redactedUrl(a.url) })),
    modelIds: m.modelIds,
    modelType: m.modelType,
    targetRuntime: { ...m.targetRuntime, properties: redactedProperties(m.targetRuntime.properties) },
    webserviceType: m.webserviceType,
    createdTime: m.createdTime,
  };
}

/** An account; `swaggerLocation` is where the API's OpenAPI description is (the 2017 account's modelManagementSwaggerLocation). */
export function accountView(a: AccountDocument, swaggerLocation: string): Body<typeof Responses.account> {
  return {
    id: `/${a.pk}`,
    name: a.name,
    subscriptionId: a.subscriptionId,
    resourceGroupName: a.resourceGroupName,
    location: a.location,
    ...(a.description !== undefined ? { description: a.description } : {}),
    tags: a.tags ?? {},
    createdAt: a.createdAt,
    createdBy: a.createdBy,
    modelManagementSwaggerLocation: swaggerLocation,
  };
}

export function roleAssignmentView(r: RoleAssignment): Body<typeof Responses.roleAssignment> {
  return { principalId: r.principalId, role: r.role, createdAt: r.createdAt };
}

/** An image, with its manifest embedded (or undefined when the manifest is gone). */
export function imageView(i: ImageDocument, manifest: ManifestDocument | undefined): Body<typeof Responses.image> {
  return {
    id: i.id,
    name: i.name,
    version: i.version,
    ...(i.description !== undefined ? { description: i.description } : {}),
    computeResourceId: i.computeResourceId,
    imageType: i.imageType,
    createdTime: i.createdTime,
    creationState: i.creationState,
    ...(i.imageLocation !== undefined ? { imageLocation: i.imageLocation } : {}),
    ...(i.imageBuildLogUri !== undefined ? { imageBuildLogUri: i.imageBuildLogUri } : {}),
    ...(i.error !== undefined ? { error: i.error } : {}),
    manifest: manifest ? manifestView(manifest) : { id: i.manifestId, name: i.manifestName },
  };
}

/** An operation a client started (an image build, a rollout), as opposed to the service's own purges. */
export type ClientOperation = OperationDocument & { operationType: "Image" | "Service" };

export function isClientOperation(o: OperationDocument): o is ClientOperation {
  return o.operationType !== "Purge";
}

/** AsyncOperationStatus; `origin` makes resourceLocation an absolute URL. */
export function operationView(o: ClientOperation, origin: string): Body<typeof Responses.asyncOperationStatus> {
  return {
    id: o.id,
    operationType: o.operationType,
    state: o.state,
    createdTime: o.createdTime,
    ...(o.endTime !== undefined ? { endTime: o.endTime } : {}),
    resourceLocation: `${origin}${o.resourcePath}?api-version=${API_VERSION}`,
    ...(o.error !== undefined ? { error: o.error } : {}),
  };
}

/** ServiceResponse: the service's settings with its image, manifest and models embedded. Never its keys. */
export function serviceView(
  s: ServiceDocument,
  image: ImageDocument | undefined,
  manifest: ManifestDocument | undefined,
  models: ModelDocument[],
): Body<typeof Responses.service> {
  return {
    id: s.id,
    name: s.name,
    imageId: s.imageId,
    computeResource: s.computeResource,
    ...(s.numReplicas !== undefined ? { numReplicas: s.numReplicas } : {}),
    ...(s.autoScaler !== undefined ? { autoScaler: s.autoScaler } : {}),
    ...(s.containerResourceReservation !== undefined ? { containerResourceReservation: s.containerResourceReservation } : {}),
    ...(s.dataCollection !== undefined ? { dataCollection: s.dataCollection } : {}),
    ...(s.appInsightsEnabled !== undefined ? { appInsightsEnabled: s.appInsightsEnabled } : {}),
    ...(s.maxConcurrentRequestsPerContainer !== undefined
      ? { maxConcurrentRequestsPerContainer: s.maxConcurrentRequestsPerContainer }
      : {}),
    ...(s.batching !== undefined ? { batching: s.batching } : {}),
    scoringUri: s.scoringUri,
    state: s.state,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(image ? { image: imageView(image, manifest) } : {}),
    ...(manifest ? { manifest: manifestView(manifest) } : {}),
    models: models.map(modelView),
  };
}

export function deploymentView(d: DeploymentDocument): Body<typeof Responses.deployment> {
  return {
    id: d.id,
    serviceName: d.serviceName,
    imageId: d.imageId,
    status: d.status,
    createdAt: d.createdAt,
    ...(d.expiredAt !== undefined ? { expiredAt: d.expiredAt } : {}),
  };
}

export type ModelView = ReturnType<typeof modelView>;
export type ManifestView = ReturnType<typeof manifestView>;
export type AccountView = ReturnType<typeof accountView>;
export type RoleAssignmentView = ReturnType<typeof roleAssignmentView>;
export type ImageView = ReturnType<typeof imageView>;
export type OperationView = ReturnType<typeof operationView>;
export type ServiceView = ReturnType<typeof serviceView>;
export type DeploymentView = ReturnType<typeof deploymentView>;
