/**
 * The app's entry point (package.json `main`): registers one function per endpoint with the
 * Azure Functions v4 programming model. The same compiled file runs in Azure, under Core Tools
 * and on the local host (devhost/).
 */
import { app } from "@azure/functions";
import { getDeps } from "./composition-root.js";
import { startTelemetry } from "../shared/telemetry.js";
import type { HttpHandler } from "@azure/functions";
import { ENDPOINTS, type EndpointName } from "./api-catalog.js";
import { makeGetOpenApi } from "./http/openapi.js";
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

/** The handler of each endpoint the catalog describes (api-catalog.ts: routes, schemas, answers). */
const handlers: Record<EndpointName, HttpHandler> = {
  health,
  openApi: makeGetOpenApi(ENDPOINTS),
  putAccount: accounts.makePutAccount(getDeps),
  getAccount: accounts.makeGetAccount(getDeps),
  deleteAccount: accounts.makeDeleteAccount(getDeps),
  listAccounts: accounts.makeListAccounts(getDeps),
  listRoleAssignments: accounts.makeListRoleAssignments(getDeps),
  putRoleAssignment: accounts.makePutRoleAssignment(getDeps),
  deleteRoleAssignment: accounts.makeDeleteRoleAssignment(getDeps),
  registerModel: models.makeRegisterModel(getDeps),
  listModels: models.makeListModels(getDeps),
  getModel: models.makeGetModel(getDeps),
  deleteModel: deletes.makeDeleteModel(getDeps),
  createManifest: manifests.makeCreateManifest(getDeps),
  listManifests: manifests.makeListManifests(getDeps),
  getManifest: manifests.makeGetManifest(getDeps),
  deleteManifest: deletes.makeDeleteManifest(getDeps),
  createImage: images.makeCreateImage(getDeps),
  listImages: images.makeListImages(getDeps),
  getImage: images.makeGetImage(getDeps),
  deleteImage: deletes.makeDeleteImage(getDeps),
  getOperation: makeGetOperation(getDeps),
  createService: services.makeCreateService(getDeps),
  listServices: services.makeListServices(getDeps),
  getService: services.makeGetService(getDeps),
  updateService: services.makeUpdateService(getDeps),
  deleteService: services.makeDeleteService(getDeps),
  getServiceKeys: services.makeGetServiceKeys(getDeps),
  regenerateServiceKey: services.makeRegenerateServiceKey(getDeps),
  regenerateServiceKeys: services.makeRegenerateServiceKey(getDeps),
  getServiceLogs: services.makeGetServiceLogs(getDeps),
  listDeployments: services.makeListDeployments(getDeps),
  getDeployment: services.makeGetDeployment(getDeps),
};

for (const [name, endpoint] of Object.entries(ENDPOINTS) as [EndpointName, (typeof ENDPOINTS)[EndpointName]][]) {
  app.http(name, { ...anonymous, methods: [endpoint.method], route: endpoint.route, handler: handlers[name] });
}

// Workers of the operation kinds: image builds and rollouts (their queues' names are app
// settings, resolved by the host), and the purges of deleted resources' storage.
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
