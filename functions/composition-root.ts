import { ConfigError, loadConfig, type Config } from "../shared/config.js";
import { createTokenValidator, type TokenValidator } from "../shared/auth/token-validator.js";
import { openStore, type Store } from "../shared/store/cosmos.js";
import { ensureAccount } from "../shared/account-service.js";
import { parseAccountPath } from "../shared/account-ref.js";
import { storageClients, type StorageClients } from "../shared/storage.js";
import { WorkQueue } from "../shared/queue/work-queue.js";
import { LocalOciBuilder } from "../shared/image-building/local-oci-builder.js";
import type { ImageBuilder } from "../shared/image-building/image-builder.js";
import { UrlGuard } from "../shared/image-building/url-guard.js";
import { BuildLogStore } from "../shared/image-building/build-log-store.js";
import { AccountBlobs } from "../shared/account-blobs.js";
import { OwnBlobReader } from "../shared/image-building/own-blob-reader.js";
import { isAksClusterId } from "../shared/compute/aks/cluster-id.js";
import { SecretBox } from "../shared/crypto/secret-box.js";
import type { ComputeTarget } from "../shared/compute/compute-target.js";
import { LocalComputeTarget } from "../shared/compute/local-compute-target.js";
import type { OperationMessage } from "../shared/schemas/operations.js";
import { Operations } from "../shared/operations/operations.js";
import { imageBuildKind } from "../shared/operations/image-build.js";
import { serviceRolloutKind } from "../shared/operations/service-rollout.js";
import { storagePurgeKind } from "../shared/operations/storage-purge.js";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Everything the functions use, built once per process from the app settings. */
export interface AppDeps {
  config: Config;
  authenticate: TokenValidator;
  accounts: Store["accounts"];
  models: Store["models"];
  manifests: Store["manifests"];
  images: Store["images"];
  services: Store["services"];
  /** Every asynchronous operation's life: image builds and service rollouts. */
  operations: Operations;
  /** The compute target of a compute resource id, if one is configured. */
  computeFor(computeResourceId: string): ComputeTarget | undefined;
  secrets: SecretBox;
  /** The app's storage account, and the reader for model and asset blobs in it. */
  storage: StorageClients;
  ownBlobs: OwnBlobReader;
  /** Each account's blobs in that storage account (deleted with the account). */
  accountBlobs: AccountBlobs;
  /** Whether a URL is a blob of that storage account (deleting the last model registered from it releases it). */
  ownsBlob(url: string): boolean;
}

/** scoring/ of this project, which goes into every image: beside dist/ when deployed. */
const SCORING_SERVER_DIR = fileURLToPath(new URL("../../scoring/", import.meta.url));

async function buildDeps(): Promise<AppDeps> {
  const config = loadConfig(process.env);
  const store = await openStore(config.cosmos, config.serviceKeysSecret);
  const storage = storageClients(config.storage);
  const ownBlobs = new OwnBlobReader(storage.blobs);
  const localBuilder = config.images.dir
    ? new LocalOciBuilder({
        imagesDir: config.images.dir,
        scoringServerDir: config.scoringServerDir ?? SCORING_SERVER_DIR,
        baseImage: config.images.baseImage,
        condaBaseImage: config.images.condaBaseImage,
        python: config.python,
        guard: new UrlGuard(config.fetchAllowedOrigins),
        downloads: config.downloads,
        ownBlobs,
        registry: config.images.registry,
      })
    : undefined;
  const localTarget =
    config.localRuntime && config.images.dir
      ? new LocalComputeTarget({
          controlUrl: config.localRuntime.controlUrl,
          controlToken: config.localRuntime.token,
          scoringBaseUrl: config.localRuntime.scoringUrl,
          ociLayoutDir: join(config.images.dir, "oci"),
        })
      : undefined;
  const aksTargets = await aksTargetsOf(config);
  const acrBuilder = config.acr && localBuilder ? await acrBuilderOf(config.acr, localBuilder) : undefined;
  // The local builder's images run on the local runtime; AKS pulls what ACR Tasks built.
  const builderFor = (computeResourceId: string) =>
    computeResourceId === "local"
      ? config.computeTargets.includes("local")
        ? localBuilder
        : undefined
      : aksTargets.has(computeResourceId.toLowerCase())
        ? acrBuilder
        : undefined;
  // `local` is the local runtime when one is configured; AKS clusters are named by resource id.
  const computeFor = (computeResourceId: string) =>
    computeResourceId === "local"
      ? config.computeTargets.includes("local")
        ? localTarget
        : undefined
      : aksTargets.get(computeResourceId.toLowerCase());
  const queue = (name: string) => new WorkQueue<OperationMessage>(storage.queues.getQueueClient(name));
  const { models, manifests, images, services } = store;
  const secrets = secretBoxOf(config.serviceKeysSecret);
  const accountBlobs = new AccountBlobs(storage.blobs);
  const buildLogs = new BuildLogStore(storage.blobs);
  const operations = new Operations({
    store: store.operations,
    kinds: [
      imageBuildKind({
        accounts: store.accounts,
        images,
        manifests,
        models,
        builderFor,
        logs: buildLogs,
        queue: queue(config.imageBuildQueue),
      }),
      serviceRolloutKind({
        services,
        images,
        manifests,
        models,
        computeFor,
        secrets,
        rolloutTimeoutMs: config.rolloutTimeoutMs,
        queue: queue(config.serviceRolloutQueue),
      }),
      storagePurgeKind({
        accounts: store.accounts,
        models,
        manifests,
        images,
        locateBlob: (url, accountPath) => ownBlobs.locate(url, accountPath),
        blobs: accountBlobs,
        logs: buildLogs,
        builderFor,
        builders: () => [localBuilder, acrBuilder].filter((b): b is ImageBuilder => b !== undefined),
        schedule: (op) => store.operations.create(op),
        lateWritesMs: config.lateWritesMs,
        queue: queue(config.storagePurgeQueue),
      }),
    ],
    ...config.operations,
  });
  const deps: AppDeps = {
    config,
    authenticate: createTokenValidator(config.auth),
    accounts: store.accounts,
    models,
    manifests,
    images,
    services,
    operations,
    storage,
    ownBlobs,
    accountBlobs,
    ownsBlob: (url) => ownBlobs.owns(url),
    computeFor,
    secrets,
  };
  if (config.bootstrap) {
    const { accountPath, ownerId } = config.bootstrap;
    await ensureAccount(deps.accounts, accountPath, parseAccountPath(accountPath), ownerId);
  }
  return deps;
}

/**
 * One AKS target per cluster resource id in COMPUTE_TARGETS, reached with the app's identity.
 * The Kubernetes client and the ARM SDKs load only where AKS targets are configured: locally they
 * would only cost start-up time and memory.
 */
async function aksTargetsOf(config: Config): Promise<Map<string, ComputeTarget>> {
  const clusters = config.computeTargets.filter(isAksClusterId);
  if (clusters.length === 0) return new Map();
  const [{ AksComputeTarget }, { aksAccess }, { ArmManagedNamespaces }, { DEFAULT_AKS_SETTINGS }, { DefaultAzureCredential }] =
    await Promise.all([
      import("../shared/compute/aks/aks-compute-target.js"),
      import("../shared/compute/aks/aks-access.js"),
      import("../shared/compute/aks/account-namespaces.js"),
      import("../shared/compute/aks/kube-objects.js"),
      import("@azure/identity"),
    ]);
  const credential = new DefaultAzureCredential();
  const settings = {
    ...DEFAULT_AKS_SETTINGS,
    ingressClassName: config.aks.ingressClassName,
    ingressNamespace: config.aks.ingressNamespace,
    progressDeadlineSeconds: Math.ceil(config.rolloutTimeoutMs / 1000),
    appInsightsConnectionString: config.aks.appInsightsConnectionString,
  };
  // loadConfig refuses AKS targets without the namespace role.
  const namespaceRoleId = config.aks.namespaceRoleId!;
  return new Map(
    clusters.map((clusterId) => [
      clusterId.toLowerCase(),
      new AksComputeTarget({
        access: aksAccess(clusterId, credential),
        namespaces: new ArmManagedNamespaces({ clusterId, credential, namespaceRoleId }),
        settings,
        scoringBaseUrl: config.aks.scoringBaseUrl,
      }),
    ]),
  );
}

async function acrBuilderOf(acr: NonNullable<Config["acr"]>, local: LocalOciBuilder): Promise<ImageBuilder> {
  const [{ AcrTasksBuilder }, { DefaultAzureCredential }] = await Promise.all([
    import("../shared/image-building/acr-tasks-builder.js"),
    import("@azure/identity"),
  ]);
  return new AcrTasksBuilder({ local, ...acr, credential: new DefaultAzureCredential() });
}

let deps: Promise<AppDeps> | undefined;

/** The app's dependencies, built on first use; a failed build is retried by the next request. */
export function getDeps(): Promise<AppDeps> {
  deps ??= buildDeps().catch((err: unknown) => {
    deps = undefined;
    throw err;
  });
  return deps;
}

/**
 * Without a usable SERVICE_KEYS_SECRET everything but services works; services say what is
 * wrong (in the log, as a misconfiguration) instead of the whole app failing to start.
 */
function secretBoxOf(secret: string | undefined): SecretBox {
  let why = "The app setting SERVICE_KEYS_SECRET (32 bytes, base64) is required for services: it encrypts their keys.";
  if (secret) {
    try {
      return new SecretBox(secret);
    } catch (err) {
      why = `The app setting SERVICE_KEYS_SECRET is not usable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const unusable = (): never => {
    throw new ConfigError(why);
  };
  return { seal: unusable, open: unusable } as unknown as SecretBox;
}
