import { isAksClusterId } from "./compute/aks/cluster-id.js";
import { z } from "zod";
import { DEFAULT_CONDA_BASE_IMAGE } from "./image-building/environment-files.js";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const accountPathPattern = /^subscriptions\/[^/]+\/resourceGroups\/[^/]+\/accounts\/[^/]+$/;

/** The app settings the app reads, validated once at start. */
export const settingsSchema = z.object({
  COSMOS_ENDPOINT: z.url({ message: "must be the Cosmos DB account endpoint, e.g. https://myaccount.documents.azure.com:443/" }),
  /** Absent in Azure: the app then signs in with its managed identity (DefaultAzureCredential). */
  COSMOS_KEY: z.string().min(1).optional(),
  COSMOS_DATABASE: z.string().min(1).default("modelmanagement"),
  COSMOS_CONTAINER: z.string().min(1).default("resources"),
  /** Locally the app creates its database and container; in Azure the Bicep does. */
  COSMOS_CREATE_IF_MISSING: bool,
  /** Comma-separated: Entra ID issues v1 tokens as https://sts.windows.net/<tenant>/ and v2 as …/<tenant>/v2.0. */
  AUTH_ISSUER: z
    .string()
    .min(
      1,
      "must be the token issuers, comma-separated (Entra ID: https://login.microsoftonline.com/<tenant>/v2.0,https://sts.windows.net/<tenant>/)",
    ),
  /** Comma-separated: the API's application ID URI (v1 tokens) and client id (v2 tokens). */
  AUTH_AUDIENCE: z.string().min(1, "must be the API's audiences, comma-separated (its application ID URI and client id)"),
  /**
   * Also accept Azure Resource Manager tokens of the same issuers, as the 2017 CLI sent them
   * (`az account get-access-token`): who may do what is still this API's role assignments.
   */
  AUTH_ACCEPT_ARM_TOKENS: bool,
  AUTH_JWKS_URI: z.url({ message: "must be the URL of the issuer's JSON Web Key Set" }),
  /** An account to create at start, owned by BOOTSTRAP_OWNER (the local default account). */
  BOOTSTRAP_ACCOUNT: z
    .string()
    .regex(accountPathPattern, "must look like subscriptions/<id>/resourceGroups/<name>/accounts/<name>")
    .optional(),
  BOOTSTRAP_OWNER: z.string().min(1).optional(),
  /** Compute targets images and services may name: `local` and/or Azure resource ids of AKS clusters. */
  COMPUTE_TARGETS: z.string().default("local"),
  IMAGE_BUILD_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?!-)){2,62}$/, "must be a storage queue name")
    .default("image-builds"),
  /** The local builder's directory (OCI layout, Dockerfile contexts); unset where images are built by ACR Tasks. */
  IMAGES_DIR: z.string().min(1).optional(),
  IMAGE_BASE: z.string().min(1).default("python:3.11-slim"),
  /** The Dockerfile's base image for manifests with a conda file: one with conda on its PATH. */
  IMAGE_CONDA_BASE: z.string().min(1).default(DEFAULT_CONDA_BASE_IMAGE),
  /** A registry the local builder pushes to (host[:port]); images stay in the OCI layout without one. */
  IMAGE_REGISTRY: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, "must be a registry host, e.g. 127.0.0.1:5000")
    .optional(),
  IMAGE_REGISTRY_PLAIN_HTTP: bool,
  /** The Python interpreter that checks drivers (and, locally, runs them). */
  PYTHON: z.string().min(1).default("python3"),
  /** Origins workers may fetch model and asset URLs from, comma-separated, e.g. https://*.blob.core.windows.net. */
  FETCH_ALLOWED_ORIGINS: z.string().default(""),
  /** A build fails when one model or asset is larger than this, or sends nothing for FETCH_IDLE_TIMEOUT_SECONDS. */
  FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024 ** 3),
  FETCH_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(60),
  /** An unfinished operation whose worker showed no sign of life for this long is taken up again. */
  OPERATION_STALL_SECONDS: z.coerce.number().int().min(1).default(120),
  SERVICE_ROLLOUT_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?!-)){2,62}$/, "must be a storage queue name")
    .default("service-rollouts"),
  /**
   * How long after an account's deletion its data partition is swept once more, for writes that
   * were in flight: longer than any request or attempt runs (host.json's functionTimeout is 10 min).
   */
  LATE_WRITES_SECONDS: z.coerce.number().int().min(1).default(900),
  STORAGE_PURGE_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?!-)){2,62}$/, "must be a storage queue name")
    .default("storage-purges"),
  /** 32 bytes, base64: encrypts service keys at rest (Key Vault in Azure; a generated file locally). */
  SERVICE_KEYS_SECRET: z.string().min(1).optional(),
  /** The local compute runtime's control API, its bearer token, and the scoring gateway's public base URL. */
  LOCAL_RUNTIME_URL: z.url().optional(),
  LOCAL_RUNTIME_TOKEN: z.string().min(16).optional(),
  LOCAL_SCORING_URL: z.url().optional(),
  /** How long a rollout may take to become healthy before it is rolled back. */
  ROLLOUT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(300),
  /** An operation unfinished after this long ends Failed. */
  OPERATION_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(7200),
  /** AKS compute targets: the ingress class exposing scoring URLs, and their public base URL when known up front. */
  AKS_INGRESS_CLASS: z.string().min(1).default("webapprouting.kubernetes.azure.com"),
  AKS_SCORING_BASE_URL: z.url().optional(),
  /** The namespace of that ingress class's controller, the one namespace scoring pods take traffic from. */
  AKS_INGRESS_NAMESPACE: z.string().min(1).default("app-routing-system"),
  /** The role the app grants itself in each account's namespace on AKS (a role definition's resource id, from infra/). */
  AKS_NAMESPACE_ROLE_ID: z
    .string()
    .regex(
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i,
      "must be a role definition's resource id",
    )
    .optional(),
  /** ACR Tasks builds images for AKS targets: the registry's resource id and login server (<name>.azurecr.io). */
  ACR_REGISTRY_ID: z
    .string()
    .regex(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i,
      "must be a container registry's resource id",
    )
    .optional(),
  ACR_LOGIN_SERVER: z
    .string()
    .regex(/^[a-z0-9]+\.azurecr\.[a-z.]+$/i, "must be the registry's login server, e.g. myregistry.azurecr.io")
    .optional(),
  /** The app's storage account as the Functions host reads it: a connection string (Azurite locally) … */
  AzureWebJobsStorage: z.string().min(1).optional(),
  /** … or an identity-based connection: the account's name, or its service URIs, and a user-assigned identity's client id. */
  AzureWebJobsStorage__accountName: z.string().min(1).optional(),
  AzureWebJobsStorage__queueServiceUri: z.url().optional(),
  AzureWebJobsStorage__blobServiceUri: z.url().optional(),
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),
  /** Where the scoring server that goes into images is (scoring/ of the deployed app, by default). */
  SCORING_SERVER_DIR: z.string().min(1).optional(),
  ...telemetrySettingsShape(),
});

type Settings = z.output<typeof settingsSchema>;

function telemetrySettingsShape() {
  return {
    /** Telemetry to Application Insights; AKS services with appInsightsEnabled get it too. */
    APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
    /** `Authorization=AAD`: telemetry is sent with the app's identity. */
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().optional(),
  };
}

export interface TelemetrySettings {
  connectionString?: string | undefined;
  /** Sent with the app's Entra ID identity rather than the instrumentation key alone. */
  entraId?: boolean;
}

/**
 * Telemetry's settings alone: telemetry starts before anything else (so that what follows is
 * traced), and must not wait for, nor fail with, the rest of the configuration.
 */
export function loadTelemetrySettings(env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  const parsed = z.object(telemetrySettingsShape()).safeParse(env);
  if (!parsed.success) return {};
  return {
    connectionString: parsed.data.APPLICATIONINSIGHTS_CONNECTION_STRING,
    entraId: /Authorization=AAD/i.test(parsed.data.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? ""),
  };
}

/** The app's storage account: a connection string, or service URIs reached with the app's identity. */
export type StorageSettings =
  { connectionString: string } | { queueServiceUri: string; blobServiceUri: string; clientId: string | undefined };

export interface Config {
  cosmos: { endpoint: string; key: string | undefined; database: string; container: string; createIfMissing: boolean };
  auth: { issuer: string[]; audience: string[]; jwksUri: string };
  bootstrap: { accountPath: string; ownerId: string } | undefined;
  computeTargets: string[];
  imageBuildQueue: string;
  images: {
    dir: string | undefined;
    baseImage: string;
    condaBaseImage: string;
    registry: { host: string; plainHttp: boolean } | undefined;
  };
  python: string;
  fetchAllowedOrigins: string[];
  /** What a build accepts of one download: its size, and the wait for its next byte. */
  downloads: { maxBytes: number; idleMs: number };
  /** heartbeatMs: how often a running worker tells the sweeper it is alive, well inside the stall period. */
  operations: { stallMs: number; deadlineMs: number; heartbeatMs: number };
  serviceRolloutQueue: string;
  /** Where the purges of deleted models' and images' storage go when the sweeper takes one up again. */
  storagePurgeQueue: string;
  lateWritesMs: number;
  serviceKeysSecret: string | undefined;
  localRuntime: { controlUrl: string; token: string; scoringUrl: string } | undefined;
  rolloutTimeoutMs: number;
  aks: {
    ingressClassName: string;
    ingressNamespace: string;
    namespaceRoleId: string | undefined;
    scoringBaseUrl: string | undefined;
    appInsightsConnectionString: string | undefined;
  };
  storage: StorageSettings;
  scoringServerDir: string | undefined;
  acr: { registryId: string; loginServer: string } | undefined;
}

export class ConfigError extends Error {}

/** Reads the configuration from app settings; a readable report of every bad setting otherwise. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`The app settings are not valid:\n${lines.join("\n")}`);
  }
  const s = parsed.data;
  if (Boolean(s.ACR_REGISTRY_ID) !== Boolean(s.ACR_LOGIN_SERVER)) {
    throw new ConfigError("The app settings are not valid:\n- ACR_REGISTRY_ID and ACR_LOGIN_SERVER go together: set both or neither.");
  }
  if (list(s.COMPUTE_TARGETS).some(isAksClusterId) && !s.AKS_NAMESPACE_ROLE_ID) {
    throw new ConfigError(
      "The app settings are not valid:\n- AKS_NAMESPACE_ROLE_ID: required with an AKS compute target (the role infra/ defines for accounts' namespaces).",
    );
  }
  if (Boolean(s.BOOTSTRAP_ACCOUNT) !== Boolean(s.BOOTSTRAP_OWNER)) {
    throw new ConfigError("The app settings are not valid:\n- BOOTSTRAP_ACCOUNT and BOOTSTRAP_OWNER go together: set both or neither.");
  }
  const storage = storageSettingsOf(s);
  return {
    cosmos: {
      endpoint: s.COSMOS_ENDPOINT,
      key: s.COSMOS_KEY,
      database: s.COSMOS_DATABASE,
      container: s.COSMOS_CONTAINER,
      createIfMissing: s.COSMOS_CREATE_IF_MISSING,
    },
    auth: {
      issuer: list(s.AUTH_ISSUER),
      audience: [...list(s.AUTH_AUDIENCE), ...(s.AUTH_ACCEPT_ARM_TOKENS ? ARM_AUDIENCES : [])],
      jwksUri: s.AUTH_JWKS_URI,
    },
    bootstrap: s.BOOTSTRAP_ACCOUNT && s.BOOTSTRAP_OWNER ? { accountPath: s.BOOTSTRAP_ACCOUNT, ownerId: s.BOOTSTRAP_OWNER } : undefined,
    computeTargets: list(s.COMPUTE_TARGETS),
    imageBuildQueue: s.IMAGE_BUILD_QUEUE,
    images: {
      dir: s.IMAGES_DIR,
      baseImage: s.IMAGE_BASE,
      condaBaseImage: s.IMAGE_CONDA_BASE,
      registry: s.IMAGE_REGISTRY ? { host: s.IMAGE_REGISTRY, plainHttp: s.IMAGE_REGISTRY_PLAIN_HTTP } : undefined,
    },
    python: s.PYTHON,
    fetchAllowedOrigins: list(s.FETCH_ALLOWED_ORIGINS),
    downloads: { maxBytes: s.FETCH_MAX_BYTES, idleMs: s.FETCH_IDLE_TIMEOUT_SECONDS * 1000 },
    operations: {
      stallMs: s.OPERATION_STALL_SECONDS * 1000,
      deadlineMs: s.OPERATION_DEADLINE_SECONDS * 1000,
      heartbeatMs: Math.max(1000, Math.floor((s.OPERATION_STALL_SECONDS * 1000) / 3)),
    },
    serviceRolloutQueue: s.SERVICE_ROLLOUT_QUEUE,
    storagePurgeQueue: s.STORAGE_PURGE_QUEUE,
    lateWritesMs: s.LATE_WRITES_SECONDS * 1000,
    serviceKeysSecret: s.SERVICE_KEYS_SECRET,
    localRuntime:
      s.LOCAL_RUNTIME_URL && s.LOCAL_RUNTIME_TOKEN && s.LOCAL_SCORING_URL
        ? { controlUrl: s.LOCAL_RUNTIME_URL.replace(/\/$/, ""), token: s.LOCAL_RUNTIME_TOKEN, scoringUrl: s.LOCAL_SCORING_URL }
        : undefined,
    rolloutTimeoutMs: s.ROLLOUT_TIMEOUT_SECONDS * 1000,
    aks: {
      ingressClassName: s.AKS_INGRESS_CLASS,
      ingressNamespace: s.AKS_INGRESS_NAMESPACE,
      namespaceRoleId: s.AKS_NAMESPACE_ROLE_ID,
      scoringBaseUrl: s.AKS_SCORING_BASE_URL,
      appInsightsConnectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
    },
    storage,
    scoringServerDir: s.SCORING_SERVER_DIR,
    acr: s.ACR_REGISTRY_ID && s.ACR_LOGIN_SERVER ? { registryId: s.ACR_REGISTRY_ID, loginServer: s.ACR_LOGIN_SERVER } : undefined,
  };
}

/** The audiences of Azure Resource Manager tokens: as the Azure CLI asks for them, and as the ARM endpoint is named. */
const ARM_AUDIENCES = ["https://management.core.windows.net/", "https://management.azure.com/", "https://management.azure.com"];

function list(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

function storageSettingsOf(s: Settings): StorageSettings {
  if (s.AzureWebJobsStorage) return { connectionString: s.AzureWebJobsStorage };
  const account = s.AzureWebJobsStorage__accountName;
  const queueServiceUri = s.AzureWebJobsStorage__queueServiceUri ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  const blobServiceUri = s.AzureWebJobsStorage__blobServiceUri ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
  if (!queueServiceUri || !blobServiceUri) {
    throw new ConfigError(
      "The app settings are not valid:\n- AzureWebJobsStorage: set it (a connection string), or AzureWebJobsStorage__accountName (identity-based).",
    );
  }
  return { queueServiceUri, blobServiceUri, clientId: s.AzureWebJobsStorage__clientId };
}
