import type { Role } from "../auth/roles.js";
import type { ErrorResponse } from "../errors.js";

/**
 * Every resource lives in one container, partitioned by its account (`pk`), told apart by
 * `kind`. One container lets a create write the resource, its version counter and (for images
 * and services) its operation in one transactional batch; one partition per account keeps every
 * account-scoped request on a single partition.
 */
export interface StoredDocument {
  id: string;
  pk: string;
  kind: string;
}

export interface RoleAssignment {
  principalId: string;
  role: Role;
  createdAt: string;
}

export interface AccountDocument extends StoredDocument {
  kind: "account";
  name: string;
  subscriptionId: string;
  resourceGroupName: string;
  location: string;
  description?: string;
  tags?: Record<string, string>;
  createdAt: string;
  createdBy: string;
  state: "Ready" | "Deleting";
  /** While Deleting: the Purge operation that deletes what the account holds. */
  purgeOperationId?: string;
  /**
   * Which life of this account name this is (a random id given at creation): its resources live
   * in the partition dataPartitionOf() names. Absent on accounts created before it existed.
   */
  incarnation?: string;
  roleAssignments: RoleAssignment[];
  /** Denormalised from roleAssignments so that "accounts I have a role on" is one query. */
  memberIds: string[];
}

export interface ModelDocument extends StoredDocument {
  kind: "model";
  name: string;
  version: number;
  description?: string;
  tags?: string[];
  mimeType: string;
  unpack?: boolean;
  url: string;
  createdAt: string;
}

export interface Asset {
  id: string;
  mimeType?: string;
  unpack?: boolean;
  url: string;
}

export interface ManifestDocument extends StoredDocument {
  kind: "manifest";
  name: string;
  version: number;
  description?: string;
  driverProgram: string;
  assets: Asset[];
  modelIds: string[];
  modelType: "Registered";
  targetRuntime: { runtimeType: "Python" | "SparkPython"; properties: Record<string, string> };
  webserviceType: "Realtime";
  createdTime: string;
}

type AsyncOperationState = "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";

export interface ImageDocument extends StoredDocument {
  kind: "image";
  name: string;
  version: number;
  description?: string;
  computeResourceId: string;
  imageType: "Docker";
  manifestId: string;
  /** Denormalised from the manifest for the `manifestName` filter. */
  manifestName: string;
  createdTime: string;
  creationState: AsyncOperationState;
  operationId: string;
  imageLocation?: string;
  imageBuildLogUri?: string;
  /** The image manifest's digest once built. */
  digest?: string;
  error?: ErrorResponse;
}

/**
 * What a purge releases: what a deleted model, manifest or image leaves in storage (the uploaded
 * blob a model was registered from, or a manifest's files; an image's registry tag, OCI layout
 * entry, build log and context), or everything a deleted account holds.
 */
export type PurgeTarget =
  | { model: { id: string; url: string } }
  /** A deleted manifest's files in the service's own storage (what `mm` uploaded for it). */
  | { manifest: { id: string; urls: string[] } }
  | { image: { id: string; name: string; version: number; computeResourceId: string; digest?: string; imageLocation?: string } }
  /** A deleted account: everything it holds, its own document last. */
  | { account: { path: string; incarnation?: string; createdAt: string } }
  /** A deleted account's data partition once more, when the writes in flight at its deletion have ended. */
  | { lateWrites: { path: string; partition: string } };

export interface OperationDocument extends StoredDocument {
  kind: "operation";
  /** `Purge` operations are the service's own (storage released after a delete); the API shows only the others. */
  operationType: "Image" | "Service" | "Purge";
  state: AsyncOperationState;
  createdTime: string;
  endTime?: string;
  /** The resource the operation creates or updates: its API path under /api. */
  resourcePath: string;
  resourceId: string;
  error?: ErrorResponse;
  /** Set by the worker while it works; the sweeper re-enqueues operations whose heartbeat stopped. */
  heartbeatAt?: string;
  /** For Service operations: the deployment the operation rolls out. */
  deploymentId?: string;
  attempts: number;
  lastAttemptError?: string;
  /** For Purge operations: what the deleted resource leaves in storage. */
  purge?: PurgeTarget;
  /** The sweeper does not take the operation up before this time (a purge that waits for late writes, work parked until later). */
  notBefore?: string;
  /** What the kind's parked work takes up again (an ACR Tasks run it follows), kept from one invocation to the next. */
  checkpoint?: Record<string, unknown>;
}

interface AutoScalerSettings {
  autoscaleEnabled: boolean;
  minReplicas?: number;
  maxReplicas?: number;
  refreshPeriodInSeconds?: number;
  targetUtilization?: number;
}

/** What a deployment runs: the service's settings that a rollout applies. */
export interface ServiceSettings {
  imageId: string;
  numReplicas?: number;
  autoScaler?: AutoScalerSettings;
  containerResourceReservation?: { cpu?: string; memory?: string };
  dataCollection?: { eventHubEnabled?: boolean; storageEnabled?: boolean };
  appInsightsEnabled?: boolean;
  maxConcurrentRequestsPerContainer?: number;
  batching?: { maxBatchSize: number; maxWaitInMilliseconds?: number };
}

export interface ServiceDocument extends StoredDocument, ServiceSettings {
  kind: "service";
  name: string;
  computeResource: { id: string; type: "Cluster" };
  /** Denormalised from the image for the list filters. */
  manifestId: string;
  manifestName: string;
  modelIds: string[];
  modelNames: string[];
  createdAt: string;
  updatedAt: string;
  state: AsyncOperationState;
  error?: ErrorResponse;
  /** Primary and secondary keys, encrypted (AES-256-GCM) with SERVICE_KEYS_SECRET. */
  keys: { primary: string; secondary: string };
  currentDeploymentId?: string;
  operationId: string;
  /** The name the compute target knows the service by (unique across accounts). */
  targetName: string;
  scoringUri: string;
}

export interface DeploymentDocument extends StoredDocument {
  kind: "deployment";
  serviceId: string;
  serviceName: string;
  imageId: string;
  status: AsyncOperationState;
  createdAt: string;
  expiredAt?: string;
  /** The settings this rollout applies to the service. */
  settings: ServiceSettings;
}

/** Holds a service name within its account, so that two services cannot share one. */
export interface ServiceNameClaim extends StoredDocument {
  kind: "service-name";
  serviceId: string;
}

/** A document as read, with the ETag that a conditional write checks. */
export type WithEtag<T> = T & { _etag: string };
