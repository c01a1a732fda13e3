import { z } from "zod";
import { ROLES } from "../auth/roles.js";

/**
 * What the API answers, as zod schemas: the views (views.ts) are typed by them, and the OpenAPI
 * description (openapi-document.ts) is generated from them, so the three cannot drift apart.
 * Field descriptions are the contract's (spec/api.md, "Definitions").
 */

const dateTime = z.iso.datetime({ offset: true }).describe("an ISO 8601 date-time");
const asyncOperationState = z.enum(["NotStarted", "Running", "Cancelled", "Succeeded", "Failed"]);

export const errorDetail = z.object({ code: z.string(), message: z.string() }).meta({ id: "ErrorDetail" });

export const errorResponse = z
  .object({
    code: z.string().describe("stable, for programs: ModelNotFound, InvalidRequestBody, ResourceInUse, …"),
    message: z.string().describe("for people: what went wrong and what to do"),
    details: z.array(errorDetail).optional().describe("one entry per bad field, or per resource in the way"),
    statusCode: z.number().int().optional(),
  })
  .meta({ id: "ErrorResponse" });

export const model = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number().int().describe("per name: 1, 2, 3 …"),
    description: z.string().optional(),
    tags: z.array(z.string()).optional(),
    mimeType: z.string(),
    unpack: z.boolean().optional(),
    url: z.string().describe("where the content is; a SAS signature shows as sig=REDACTED"),
    createdAt: dateTime,
  })
  .meta({ id: "Model" });

const asset = z
  .object({
    id: z.string().describe("a relative path in the app: the driver program names one"),
    mimeType: z.string().optional(),
    unpack: z.boolean().optional(),
    url: z.string(),
  })
  .meta({ id: "Asset" });

export const manifest = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number().int(),
    description: z.string().optional(),
    driverProgram: z.string(),
    assets: z.array(asset),
    modelIds: z.array(z.string()),
    modelType: z.enum(["Registered"]),
    targetRuntime: z
      .object({ runtimeType: z.enum(["Python", "SparkPython"]), properties: z.record(z.string(), z.string()) })
      .meta({ id: "TargetRuntime" }),
    webserviceType: z.enum(["Realtime"]),
    createdTime: dateTime,
  })
  .meta({ id: "Manifest" });

export const image = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number().int(),
    description: z.string().optional(),
    computeResourceId: z.string(),
    imageType: z.enum(["Docker"]),
    createdTime: dateTime,
    creationState: asyncOperationState,
    imageLocation: z.string().optional().describe("where the built image is: a registry reference, or oci:<layout>:<ref>"),
    imageBuildLogUri: z.string().optional().describe("a read-only URL of the build's log, readable while it runs"),
    error: errorResponse.optional(),
    manifest: z.union([manifest, z.object({ id: z.string(), name: z.string() }).describe("the manifest, once deleted")]),
  })
  .meta({ id: "Image" });

export const asyncOperationStatus = z
  .object({
    id: z.string(),
    operationType: z.enum(["Image", "Service"]),
    state: asyncOperationState,
    createdTime: dateTime,
    endTime: dateTime.optional(),
    resourceLocation: z.string().describe("the absolute URL of the resource the operation creates or updates"),
    error: errorResponse.optional(),
  })
  .meta({ id: "AsyncOperationStatus" });

const autoScaler = z
  .object({
    autoscaleEnabled: z.boolean(),
    minReplicas: z.number().int().optional(),
    maxReplicas: z.number().int().optional(),
    refreshPeriodInSeconds: z.number().int().optional(),
    targetUtilization: z.number().int().optional(),
  })
  .meta({ id: "AutoScaler" });

export const service = z
  .object({
    id: z.string(),
    name: z.string(),
    imageId: z.string(),
    computeResource: z.object({ id: z.string(), type: z.enum(["Cluster"]) }).meta({ id: "ComputeResource" }),
    numReplicas: z.number().int().optional(),
    autoScaler: autoScaler.optional(),
    containerResourceReservation: z
      .object({ cpu: z.string().optional(), memory: z.string().optional() })
      .meta({ id: "ContainerResourceReservation" })
      .optional(),
    dataCollection: z
      .object({ eventHubEnabled: z.boolean().optional(), storageEnabled: z.boolean().optional() })
      .meta({ id: "ModelDataCollection" })
      .optional(),
    appInsightsEnabled: z.boolean().optional(),
    maxConcurrentRequestsPerContainer: z.number().int().optional(),
    batching: z
      .object({ maxBatchSize: z.number().int(), maxWaitInMilliseconds: z.number().int().optional() })
      .meta({ id: "Batching" })
      .optional(),
    scoringUri: z.string(),
    state: asyncOperationState,
    createdAt: dateTime,
    updatedAt: dateTime,
    error: errorResponse.optional(),
    image: image.optional(),
    manifest: manifest.optional(),
    models: z.array(model),
  })
  .meta({ id: "ServiceResponse" });

export const deployment = z
  .object({
    id: z.string(),
    serviceName: z.string(),
    imageId: z.string(),
    status: asyncOperationState,
    createdAt: dateTime,
    expiredAt: dateTime.optional(),
  })
  .meta({ id: "Deployment" });

export const authKeys = z.object({ primaryKey: z.string(), secondaryKey: z.string() }).meta({ id: "AuthKeys" });

export const account = z
  .object({
    id: z.string().describe("/subscriptions/{s}/resourceGroups/{rg}/accounts/{name}"),
    name: z.string(),
    subscriptionId: z.string(),
    resourceGroupName: z.string(),
    location: z.string(),
    description: z.string().optional(),
    tags: z.record(z.string(), z.string()),
    createdAt: dateTime,
    createdBy: z.string(),
    modelManagementSwaggerLocation: z.string().describe("where this API's OpenAPI description is (what 2017 clients read)"),
  })
  .meta({ id: "Account" });

export const roleAssignment = z
  .object({ principalId: z.string(), role: z.enum(ROLES), createdAt: dateTime })
  .meta({ id: "RoleAssignment" });

/** A page of a list: the items, and the absolute URL of the next page when there is one. */
export const page = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({ value: z.array(item), nextLink: z.string().optional().describe("the next page, with your filters and api-version") })
    .meta({ id });

export const modelPage = page(model, "PaginatedModelList");
export const manifestPage = page(manifest, "PaginatedManifestList");
export const imagePage = page(image, "PaginatedImageList");
export const servicePage = page(service, "PaginatedServiceList");
export const accountPage = page(account, "PaginatedAccountList");
export const roleAssignmentList = z.object({ value: z.array(roleAssignment) }).meta({ id: "RoleAssignmentList" });
export const deploymentList = z.array(deployment).meta({ id: "DeploymentList" });
export const deletion = z.object({}).describe("an empty body");
export const health = z.object({ status: z.string() }).meta({ id: "Health" });
