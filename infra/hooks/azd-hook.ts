import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { AzureDeveloperCliCredential } from "@azure/identity";
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { deleteApiRegistration, ensureApiRegistration, GraphError, type Graph } from "./api-registration.js";
import { assembleAppPackage } from "./app-package.js";
import { importBaseImage } from "./base-image.js";

/**
 * The hooks of azure.yaml (`npm run --silent azd-hook <name>`): what `azd up` and `azd down`
 * need that Bicep cannot do. azd runs them with its environment's values in process.env;
 * what they learn goes back into that environment with `azd env set`.
 */

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
export const PACKAGE_DIR = ".azure-package";

/** Where a hook reads and writes the azd environment: azd itself, or a test's stand-in. */
export interface AzdEnvironment {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** Runs azd with these arguments (a nested `azd provision`). */
  azd(args: string[]): void;
}

const azdCli: AzdEnvironment = {
  get: (name) => process.env[name] || undefined,
  set(name, value) {
    execFileSync("azd", ["env", "set", name, value], { stdio: ["ignore", "ignore", "inherit"] });
    process.env[name] = value;
  },
  azd: (args) => execFileSync("azd", args, { stdio: "inherit" }),
};

/** The unique name of the API's app registration: one per azd environment and subscription. */
export function registrationName(env: AzdEnvironment): string {
  return `model-management-api-${env.get("AZURE_ENV_NAME") ?? "default"}-${env.get("AZURE_SUBSCRIPTION_ID") ?? ""}`.slice(0, 120);
}

/** The signed-in azd user's credential, in the environment's tenant. */
function azdCredential(env: AzdEnvironment): AzureDeveloperCliCredential {
  const tenantId = env.get("AZURE_TENANT_ID");
  return new AzureDeveloperCliCredential(tenantId ? { tenantId } : {});
}

function graphOf(env: AzdEnvironment, baseUrl = "https://graph.microsoft.com"): Graph {
  const credential = azdCredential(env);
  return {
    baseUrl,
    token: async () => (await credential.getToken("https://graph.microsoft.com/.default")).token,
  };
}

/**
 * Before provisioning: the key that encrypts service keys (made once, kept in the environment:
 * a new one would make every stored key unreadable), and the API's app registration, unless the
 * environment names one of its own (AUTH_CLIENT_ID set by hand, for tenants where users may not
 * register applications).
 */
export async function preprovision(env: AzdEnvironment, graph: Graph): Promise<void> {
  if (!env.get("SERVICE_KEYS_SECRET")) env.set("SERVICE_KEYS_SECRET", randomBytes(32).toString("base64"));
  if (env.get("AUTH_CLIENT_ID") && env.get("AUTH_REGISTERED_BY_AZD") !== "true") return;
  try {
    const registration = await ensureApiRegistration(
      graph,
      registrationName(env),
      `Model Management API (${env.get("AZURE_ENV_NAME") ?? "azd"})`,
    );
    env.set("AUTH_CLIENT_ID", registration.appId);
    env.set("AUTH_AUDIENCE", registration.identifierUri);
    env.set("AUTH_REGISTERED_BY_AZD", "true");
  } catch (err) {
    if (err instanceof GraphError && err.status === 403)
      throw new Error(
        `${err.message}\nYour account may not register applications in this tenant. Ask an administrator to register the API (README, "Deploying to Azure", the manual path), then: azd env set AUTH_CLIENT_ID <its application id> && azd env set AUTH_AUDIENCE api://<its application id>`,
        { cause: err },
      );
    throw err;
  }
}

/**
 * After provisioning: the base image copied into the project's registry (once per environment),
 * where IMAGE_BASE points ACR Tasks builds.
 */
export async function postprovision(env: AzdEnvironment, registries: Pick<ContainerRegistryManagementClient, "registries">): Promise<void> {
  const registryId = env.get("ACR_REGISTRY_ID");
  const loginServer = env.get("ACR_LOGIN_SERVER");
  if (!registryId || !loginServer) throw new Error("The provisioning gave no ACR_REGISTRY_ID and ACR_LOGIN_SERVER outputs.");
  if (env.get("BASE_IMAGE_IMPORTED") === loginServer) return;
  await importBaseImage(registries, registryId, loginServer);
  env.set("BASE_IMAGE_IMPORTED", loginServer);
}

/** Once the code is deployed, modelBlobCreated exists: provision again with blob drops wired to it (once). */
export function postdeploy(env: AzdEnvironment): void {
  if (env.get("WIRE_MODEL_BLOB_EVENTS") === "true") return;
  env.set("WIRE_MODEL_BLOB_EVENTS", "true");
  env.azd(["provision", "--no-prompt"]);
}

/**
 * After `azd down`: what the environment remembers of the deleted resources is forgotten (the
 * next `azd up` wires blob drops and imports the base image again), and the app registration
 * goes too, if azd made it.
 */
export async function postdown(env: AzdEnvironment, graph: Graph): Promise<void> {
  for (const name of ["WIRE_MODEL_BLOB_EVENTS", "BASE_IMAGE_IMPORTED"]) if (env.get(name)) env.set(name, "");
  if (env.get("AUTH_REGISTERED_BY_AZD") !== "true") return;
  await deleteApiRegistration(graph, registrationName(env));
  for (const name of ["AUTH_CLIENT_ID", "AUTH_AUDIENCE", "AUTH_REGISTERED_BY_AZD"]) env.set(name, "");
}

export const HOOKS = ["preprovision", "postprovision", "prepackage", "postdeploy", "postdown"] as const;

async function main(hook: string | undefined): Promise<void> {
  switch (hook) {
    case "preprovision":
      return preprovision(azdCli, graphOf(azdCli));
    case "postprovision": {
      const subscription = azdCli.get("AZURE_SUBSCRIPTION_ID");
      if (!subscription) throw new Error("azd gave no AZURE_SUBSCRIPTION_ID.");
      return postprovision(azdCli, new ContainerRegistryManagementClient(azdCredential(azdCli), subscription));
    }
    case "prepackage":
      assembleAppPackage(ROOT, PACKAGE_DIR);
      return;
    case "postdeploy":
      return postdeploy(azdCli);
    case "postdown":
      return postdown(azdCli, graphOf(azdCli));
    default:
      throw new Error(`No azd hook "${hook ?? ""}": one of ${HOOKS.join(", ")}.`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
