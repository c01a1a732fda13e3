import type { DataCollectionTarget, DeploymentSpec } from "../compute/compute-target.js";
import { modelFileName } from "../image-building/local-oci-builder.js";
import type { DeploymentDocument, ImageDocument, ModelDocument, ServiceDocument } from "../store/documents.js";
import { accountPathOfPartition, parseAccountPath } from "../account-ref.js";
import { MODEL_DATA_CONTAINER } from "../schemas/storage-layout.js";

/** Defaults of the 2017 service: one replica; the autoscaler's documented min 1, max 10, 1 s, 70 %. */
const DEFAULT_REPLICAS = 1;
const DEFAULT_MAX_CONCURRENT_REQUESTS = 5;
/** How long a request waits for others to batch with, when the service batches and does not say. */
const DEFAULT_BATCH_WAIT_MS = 10;
const AUTOSCALER_DEFAULTS = { minReplicas: 1, maxReplicas: 10, refreshPeriodInSeconds: 1, targetUtilization: 70 };

/** What the compute target runs for a deployment of a service. */
export function deploymentSpecOf(
  service: ServiceDocument,
  deployment: DeploymentDocument,
  image: ImageDocument,
  models: ModelDocument[],
  keys: { primary: string; secondary: string },
): DeploymentSpec {
  const s = deployment.settings;
  const a = s.autoScaler?.autoscaleEnabled ? { ...AUTOSCALER_DEFAULTS, ...stripUndefined(s.autoScaler) } : undefined;
  return {
    targetName: service.targetName,
    deploymentId: deployment.id,
    image: { location: image.imageLocation!, digest: image.digest! },
    replicas: a ? a.minReplicas : (s.numReplicas ?? DEFAULT_REPLICAS),
    ...(a
      ? {
          autoscaler: {
            minReplicas: a.minReplicas,
            maxReplicas: a.maxReplicas,
            targetUtilization: a.targetUtilization,
            refreshPeriodInSeconds: a.refreshPeriodInSeconds,
          },
        }
      : {}),
    maxConcurrentRequestsPerContainer: s.maxConcurrentRequestsPerContainer ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
    ...(s.containerResourceReservation ? { containerResourceReservation: s.containerResourceReservation } : {}),
    keys,
    env: {
      AML_SERVICE_NAME: service.name,
      AML_APP_INSIGHTS_ENABLED: String(Boolean(s.appInsightsEnabled)),
      AML_MODEL_DC_STORAGE_ENABLED: String(Boolean(s.dataCollection?.storageEnabled)),
      AML_MODEL_DC_EVENT_HUB_ENABLED: String(Boolean(s.dataCollection?.eventHubEnabled)),
      ...(s.batching && s.batching.maxBatchSize > 1
        ? {
            AML_BATCH_MAX_SIZE: String(s.batching.maxBatchSize),
            AML_BATCH_MAX_WAIT_MS: String(s.batching.maxWaitInMilliseconds ?? DEFAULT_BATCH_WAIT_MS),
          }
        : {}),
    },
    ...(s.dataCollection?.storageEnabled ? { dataCollection: dataCollectionTarget(service, models) } : {}),
  };
}

/** The `modeldata` paths of a service's models (the 2017 layout, see DataCollectionTarget). */
function dataCollectionTarget(service: ServiceDocument, models: ModelDocument[]): DataCollectionTarget {
  const ref = parseAccountPath(accountPathOfPartition(service.pk));
  const servicePrefix = `${ref.subscriptionId}/${ref.resourceGroupName}/${ref.accountName}/${service.name}`;
  return {
    container: MODEL_DATA_CONTAINER,
    servicePrefix,
    models: models.map((m) => ({
      names: [...new Set([m.name, modelFileName(m)])],
      prefix: `${servicePrefix}/${m.id}-${m.name.replace(/[/\\]/g, "_")}-${m.version}`,
    })),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
