/**
 * The app's entry point (package.json `main`): registers one function per endpoint with the
 * Azure Functions v4 programming model. The same compiled file runs in Azure, under Core Tools
 * and on the local host (devhost/).
 */
import { app } from "@azure/functions";
import { getDeps } from "./composition-root.js";
import { startTelemetry } from "../shared/telemetry.js";
import { ACCOUNT_ROUTE, RESOURCE_GROUP_ROUTE } from "./routes.js";
import { health } from "./http/health.js";
import { routeNotFound } from "./http/route-not-found.js";
import * as accounts from "./http/accounts.js";
import * as models from "./http/models.js";
import * as manifests from "./http/manifests.js";
import * as images from "./http/images.js";
import { makeGetOperation } from "./http/operations.js";
import { makeOperationPoisonHandler, makeOperationWorker } from "./workers/operation-workers.js";
import { makeOperationSweeper } from "./timers/sweep-operations.js";
import * as services from "./http/services.js";
import * as deletes from "./http/deletes.js";
import { makeModelBlobCreated } from "./events/model-blob-created.js";

// Telemetry first, so that what follows is traced (a no-op without a connection string).
await startTelemetry().catch((err: unknown) => console.error("Telemetry could not start:", err instanceof Error ? err.message : err));

const anonymous = { authLevel: "anonymous" } as const;

app.http("health", { ...anonymous, methods: ["GET"], route: "health", handler: health });

app.http("putAccount", { ...anonymous, methods: ["PUT"], route: ACCOUNT_ROUTE, handler: accounts.makePutAccount(getDeps) });
app.http("getAccount", { ...anonymous, methods: ["GET"], route: ACCOUNT_ROUTE, handler: accounts.makeGetAccount(getDeps) });
app.http("deleteAccount", { ...anonymous, methods: ["DELETE"], route: ACCOUNT_ROUTE, handler: accounts.makeDeleteAccount(getDeps) });
app.http("listAccounts", {
  ...anonymous,
  methods: ["GET"],
  route: `${RESOURCE_GROUP_ROUTE}/accounts`,
  handler: accounts.makeListAccounts(getDeps),
});
app.http("listRoleAssignments", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/roleAssignments`,
  handler: accounts.makeListRoleAssignments(getDeps),
});
app.http("putRoleAssignment", {
  ...anonymous,
  methods: ["PUT"],
  route: `${ACCOUNT_ROUTE}/roleAssignments/{principalId}`,
  handler: accounts.makePutRoleAssignment(getDeps),
});
app.http("deleteRoleAssignment", {
  ...anonymous,
  methods: ["DELETE"],
  route: `${ACCOUNT_ROUTE}/roleAssignments/{principalId}`,
  handler: accounts.makeDeleteRoleAssignment(getDeps),
});

app.http("registerModel", {
  ...anonymous,
  methods: ["POST"],
  route: `${ACCOUNT_ROUTE}/models`,
  handler: models.makeRegisterModel(getDeps),
});
app.http("listModels", { ...anonymous, methods: ["GET"], route: `${ACCOUNT_ROUTE}/models`, handler: models.makeListModels(getDeps) });
app.http("getModel", { ...anonymous, methods: ["GET"], route: `${ACCOUNT_ROUTE}/models/{id}`, handler: models.makeGetModel(getDeps) });
app.http("deleteModel", {
  ...anonymous,
  methods: ["DELETE"],
  route: `${ACCOUNT_ROUTE}/models/{id}`,
  handler: deletes.makeDeleteModel(getDeps),
});

app.http("createManifest", {
  ...anonymous,
  methods: ["POST"],
  route: `${ACCOUNT_ROUTE}/manifests`,
  handler: manifests.makeCreateManifest(getDeps),
});
app.http("listManifests", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/manifests`,
  handler: manifests.makeListManifests(getDeps),
});
app.http("getManifest", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/manifests/{id}`,
  handler: manifests.makeGetManifest(getDeps),
});
app.http("deleteManifest", {
  ...anonymous,
  methods: ["DELETE"],
  route: `${ACCOUNT_ROUTE}/manifests/{id}`,
  handler: deletes.makeDeleteManifest(getDeps),
});

app.http("createImage", { ...anonymous, methods: ["POST"], route: `${ACCOUNT_ROUTE}/images`, handler: images.makeCreateImage(getDeps) });
app.http("listImages", { ...anonymous, methods: ["GET"], route: `${ACCOUNT_ROUTE}/images`, handler: images.makeListImages(getDeps) });
app.http("getImage", { ...anonymous, methods: ["GET"], route: `${ACCOUNT_ROUTE}/images/{id}`, handler: images.makeGetImage(getDeps) });
app.http("deleteImage", {
  ...anonymous,
  methods: ["DELETE"],
  route: `${ACCOUNT_ROUTE}/images/{id}`,
  handler: deletes.makeDeleteImage(getDeps),
});

app.http("getOperation", { ...anonymous, methods: ["GET"], route: `${ACCOUNT_ROUTE}/operations/{id}`, handler: makeGetOperation(getDeps) });

app.http("createService", {
  ...anonymous,
  methods: ["POST"],
  route: `${ACCOUNT_ROUTE}/services`,
  handler: services.makeCreateService(getDeps),
});
app.http("listServices", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/services`,
  handler: services.makeListServices(getDeps),
});
app.http("getService", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/services/{id}`,
  handler: services.makeGetService(getDeps),
});
app.http("updateService", {
  ...anonymous,
  methods: ["PUT"],
  route: `${ACCOUNT_ROUTE}/services/{id}`,
  handler: services.makeUpdateService(getDeps),
});
app.http("deleteService", {
  ...anonymous,
  methods: ["DELETE"],
  route: `${ACCOUNT_ROUTE}/services/{id}`,
  handler: services.makeDeleteService(getDeps),
});
app.http("getServiceKeys", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/services/{id}/keys`,
  handler: services.makeGetServiceKeys(getDeps),
});
app.http("regenerateServiceKey", {
  ...anonymous,
  methods: ["POST"],
  route: `${ACCOUNT_ROUTE}/services/{id}/keys`,
  handler: services.makeRegenerateServiceKey(getDeps),
});
app.http("regenerateServiceKeys", {
  ...anonymous,
  methods: ["POST"],
  route: `${ACCOUNT_ROUTE}/services/{id}/regenerateKeys`,
  handler: services.makeRegenerateServiceKey(getDeps),
});
app.http("getServiceLogs", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/services/{id}/logs`,
  handler: services.makeGetServiceLogs(getDeps),
});
app.http("listDeployments", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/deployments`,
  handler: services.makeListDeployments(getDeps),
});
app.http("getDeployment", {
  ...anonymous,
  methods: ["GET"],
  route: `${ACCOUNT_ROUTE}/deployments/{id}`,
  handler: services.makeGetDeployment(getDeps),
});

app.storageQueue("serviceRolloutWorker", {
  queueName: "%SERVICE_ROLLOUT_QUEUE%",
  connection: "AzureWebJobsStorage",
  handler: makeOperationWorker(getDeps, "Service"),
});
app.storageQueue("serviceRolloutPoison", {
  queueName: "%SERVICE_ROLLOUT_QUEUE%-poison",
  connection: "AzureWebJobsStorage",
  handler: makeOperationPoisonHandler(getDeps, "Service"),
});

// Any other path under /api: an ErrorResponse rather than the host's empty 404. Catch-all
// routes come last in the host's route precedence, so this never shadows an endpoint.
app.http("routeNotFound", {
  ...anonymous,
  methods: ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"],
  route: "{*path}",
  handler: routeNotFound,
});

// The queue's name is an app setting (IMAGE_BUILD_QUEUE, default image-builds), resolved by the host.
app.storageQueue("imageBuildWorker", {
  queueName: "%IMAGE_BUILD_QUEUE%",
  connection: "AzureWebJobsStorage",
  handler: makeOperationWorker(getDeps, "Image"),
});
app.storageQueue("imageBuildPoison", {
  queueName: "%IMAGE_BUILD_QUEUE%-poison",
  connection: "AzureWebJobsStorage",
  handler: makeOperationPoisonHandler(getDeps, "Image"),
});
// Purges of deleted models' and images' storage run as the DELETE answers; the sweeper sends here those cut short.
app.storageQueue("storagePurgeWorker", {
  queueName: "%STORAGE_PURGE_QUEUE%",
  connection: "AzureWebJobsStorage",
  handler: makeOperationWorker(getDeps, "Purge"),
});
app.storageQueue("storagePurgePoison", {
  queueName: "%STORAGE_PURGE_QUEUE%-poison",
  connection: "AzureWebJobsStorage",
  handler: makeOperationPoisonHandler(getDeps, "Purge"),
});
app.eventGrid("modelBlobCreated", { handler: makeModelBlobCreated(getDeps) });
app.timer("operationSweeper", { schedule: "*/10 * * * * *", handler: makeOperationSweeper(getDeps) });

// Build the store clients (and the bootstrap account) at start rather than on the first request.
app.hook.appStart(async (context) => {
  try {
    await getDeps();
  } catch (err) {
    console.error("The app could not start its dependencies; requests will retry:", err instanceof Error ? err.message : err);
  }
  void context;
});
