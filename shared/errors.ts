/**
 * The API's errors. Every non-2xx answer is an ErrorResponse `{code, message, details?,
 * statusCode}` whose `code` is stable: clients branch on it, people read the message.
 */
export interface ErrorDetail {
  code: string;
  message: string;
}

export interface ErrorResponse {
  code: string;
  message: string;
  details?: ErrorDetail[];
  statusCode: number;
}

/** A failure the API reports to its caller as it is. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toResponse(): ErrorResponse {
    return {
      code: this.code,
      message: this.message,
      ...(this.details?.length ? { details: this.details } : {}),
      statusCode: this.statusCode,
    };
  }
}

const BEARER_REALM = 'Bearer realm="model-management"';

/** Every error the API raises, by code. */
export const Errors = {
  unauthenticated: (why: string, withErrorCode = true) =>
    new ApiError(401, "Unauthorized", why, undefined, {
      "www-authenticate": withErrorCode
        ? `${BEARER_REALM}, error="invalid_token", error_description="${why.replace(/["\\]/g, "'")}"`
        : BEARER_REALM,
    }),
  authUnavailable: () =>
    new ApiError(
      503,
      "AuthenticationUnavailable",
      "The token issuer's signing keys cannot be fetched right now; try again shortly.",
      undefined,
      { "retry-after": "5" },
    ),
  forbidden: (why: string) => new ApiError(403, "AuthorizationFailed", why),
  unsupportedApiVersion: (given: string | null, supported: readonly string[]) =>
    new ApiError(
      400,
      "UnsupportedApiVersion",
      given
        ? `The api-version "${given}" is not supported. Supported versions: ${supported.join(", ")}.`
        : `The api-version query parameter is required. Supported versions: ${supported.join(", ")}.`,
    ),
  invalidBody: (message: string, details?: ErrorDetail[]) => new ApiError(400, "InvalidRequestBody", message, details),
  invalidQuery: (message: string, details?: ErrorDetail[]) => new ApiError(400, "InvalidQueryParameter", message, details),
  invalidPath: (message: string, details?: ErrorDetail[]) => new ApiError(400, "InvalidPathParameter", message, details),
  invalidSkipToken: (why: string) =>
    new ApiError(400, "InvalidSkipToken", `The $skipToken is not valid: ${why}. Start again from the first page.`),
  bodyTooLarge: (limit: number) => new ApiError(413, "RequestBodyTooLarge", `The request body is larger than ${limit} bytes.`),
  unsupportedMediaType: (given: string) =>
    new ApiError(415, "UnsupportedMediaType", `The request body must be JSON (Content-Type: application/json), not "${given}".`),
  accountNotFound: (path: string) => new ApiError(404, "AccountNotFound", `No account ${path} exists that you have a role on.`),
  accountExists: (path: string) =>
    new ApiError(
      409,
      "AccountAlreadyExists",
      `An account named ${path} already exists and you have no role on it. Choose another name, or ask one of its Owners for a role.`,
    ),
  accountBeingDeleted: (path: string) =>
    new ApiError(409, "AccountBeingDeleted", `The account ${path} is being deleted. Try again once the deletion has finished.`),
  accountHasServices: (path: string, count: number) =>
    new ApiError(409, "AccountHasServices", `The account ${path} still has ${count} service(s). Delete them first.`),
  lastOwner: (principalId: string) =>
    new ApiError(409, "LastOwner", `${principalId} is the account's last Owner. Make another principal Owner first.`),
  roleAssignmentNotFound: (principalId: string) =>
    new ApiError(404, "RoleAssignmentNotFound", `${principalId} has no role on this account.`),
  modelNotFound: (id: string) => new ApiError(404, "ModelNotFound", `No model with id ${id} exists in this account.`),
  manifestNotFound: (id: string) => new ApiError(404, "ManifestNotFound", `No manifest with id ${id} exists in this account.`),
  modelsNotRegistered: (ids: string[]) =>
    new ApiError(
      400,
      "ModelNotRegistered",
      `These modelIds are not registered in this account: ${ids.join(", ")}. Register the models first, or remove them from modelIds.`,
      ids.map((id) => ({ code: "ModelNotFound", message: `modelIds: ${id} is not a registered model of this account.` })),
    ),
  driverProgramNotAnAsset: (driver: string, assetIds: string[]) =>
    new ApiError(
      400,
      "DriverProgramNotFound",
      `driverProgram "${driver}" must be the id of one of the manifest's assets (${assetIds.length ? assetIds.join(", ") : "none given"}).`,
      [{ code: "DriverProgramNotFound", message: `driverProgram: "${driver}" is not an asset id.` }],
    ),
  resourceInUse: (what: string, users: { kind: string; id: string; name?: string; version?: number }[], more = "") =>
    new ApiError(
      409,
      "ResourceInUse",
      `The ${what} is in use by ${users.map(describeUser).join(", ")}${more}: delete ${users.length > 1 ? "those" : "that"} first.`,
      users.map((u) => ({ code: "InUseBy", message: describeUser(u) })),
    ),
  imageNotFound: (id: string) => new ApiError(404, "ImageNotFound", `No image with id ${id} exists in this account.`),
  operationNotFound: (id: string) => new ApiError(404, "OperationNotFound", `No operation with id ${id} exists in this account.`),
  manifestNotInAccount: (id: string) =>
    new ApiError(400, "ManifestNotFound", `manifestId ${id} is not a manifest of this account. Create the manifest first.`, [
      { code: "ManifestNotFound", message: `manifestId: ${id} is not a manifest of this account.` },
    ]),
  unknownComputeResource: (id: string, known: string[]) =>
    new ApiError(
      400,
      "UnknownComputeResource",
      `The compute resource "${id}" is not known here. Known compute resources: ${known.join(", ")}.`,
      [{ code: "UnknownComputeResource", message: `computeResourceId: "${id}" is not a configured compute target.` }],
    ),
  runtimeFileNotAnAsset: (property: string, value: string) => {
    // Only what precedes a query is repeated: a mistyped URL may carry a SAS signature.
    const shown = value.split("?")[0]!.slice(0, 200);
    return new ApiError(
      400,
      "RuntimeFileNotFound",
      `targetRuntime.properties.${property} "${shown}" must be the id of one of the manifest's assets, or an http(s) URL of the file.`,
      [
        {
          code: "RuntimeFileNotFound",
          message: `targetRuntime.properties.${property}: "${shown}" is neither an asset id nor an http(s) URL.`,
        },
      ],
    );
  },
  serviceNotFound: (id: string) => new ApiError(404, "ServiceNotFound", `No service with id ${id} exists in this account.`),
  deploymentNotFound: (id: string) => new ApiError(404, "DeploymentNotFound", `No deployment with id ${id} exists in this account.`),
  serviceNameConflict: (name: string, failedId?: string) =>
    new ApiError(
      409,
      "ServiceNameConflict",
      failedId
        ? `A service named ${name} already exists in this account, and its deployment failed. Delete it (DELETE services/${failedId}; mm service delete realtime -n ${name}) and create it again, or deploy a fixed image to it (PUT services/${failedId} with imageId).`
        : `A service named ${name} already exists in this account. Choose another name, or update that service.`,
    ),
  serviceBusy: (name: string) =>
    new ApiError(409, "ServiceBusy", `Service ${name} is being deployed; wait for its operation to finish, then update it.`),
  imageNotReady: (id: string, state: string | undefined) =>
    new ApiError(
      400,
      "ImageNotReady",
      state
        ? `Image ${id} is ${state}; only an image whose build Succeeded can be deployed.`
        : `imageId ${id} is not an image of this account.`,
      [{ code: "ImageNotReady", message: `imageId: ${id} is not a successfully built image of this account.` }],
    ),
  tooMuchContention: (what: string) =>
    new ApiError(503, "TooManyConcurrentWrites", `Too many concurrent writes to ${what}; try again.`, undefined, { "retry-after": "1" }),
  unavailable: (correlationId: string) =>
    new ApiError(
      503,
      "Unavailable",
      `A service this API depends on (its database or storage) cannot be reached right now; try again shortly (correlation id ${correlationId}).`,
      undefined,
      { "retry-after": "5" },
    ),
  internal: (correlationId: string) =>
    new ApiError(
      500,
      "InternalServerError",
      `The server failed to handle the request. Quote correlation id ${correlationId} when reporting it.`,
    ),
} as const;

function describeUser(u: { kind: string; id: string; name?: string; version?: number }): string {
  return `${u.kind} ${u.name ? `${u.name}${u.version !== undefined ? ` v${u.version}` : ""} ` : ""}(${u.id})`;
}
