import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { AZURE_CLI_APP_ID } from "../../infra/hooks/api-registration.js";
import {
  HOOKS,
  postdeploy,
  postdown,
  postprovision,
  preprovision,
  registrationName,
  type AzdEnvironment,
} from "../../infra/hooks/azd-hook.js";
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { BASE_IMAGE } from "../../infra/hooks/base-image.js";
import { FakeAcr } from "../support/fake-acr.js";
import { fakeCredential } from "../support/fake-arm.js";
import { assembleAppPackage } from "../../infra/hooks/app-package.js";
import { parseBicepFile } from "../support/bicep.js";
import { FakeGraph } from "../support/fake-graph.js";
import { PROJECT_ROOT } from "../support/local-stack.js";

/**
 * azd itself cannot be installed here (a download) and no subscription is reachable, so `azd up`
 * is checked dry: azure.yaml against the parts of azd's published schema (schemas/v1.0) it uses,
 * the parameters file against the Bicep, and the hooks run for real against a fake Graph and a
 * stand-in for `azd env`.
 */
const hookStep = z.object({ shell: z.enum(["sh", "pwsh"]).optional(), run: z.string().min(1) }).strict();
const hook = z.union([hookStep, z.object({ posix: hookStep.optional(), windows: hookStep.optional() }).strict()]);
const commandHooks = z
  .object(
    Object.fromEntries(
      ["provision", "deploy", "down", "up", "restore", "package", "infracreate", "infradelete"].flatMap((c) => [
        [`pre${c}`, hook.optional()],
        [`post${c}`, hook.optional()],
      ]),
    ),
  )
  .strict();
const serviceHooks = z
  .object(
    Object.fromEntries(
      ["restore", "build", "deploy", "package"].flatMap((c) => [
        [`pre${c}`, hook.optional()],
        [`post${c}`, hook.optional()],
      ]),
    ),
  )
  .strict();
const azureYaml = z
  .object({
    name: z.string().min(2),
    metadata: z.object({ template: z.string() }).strict().optional(),
    infra: z
      .object({ provider: z.enum(["bicep", "terraform"]), path: z.string(), module: z.string() })
      .strict()
      .optional(),
    services: z.record(
      z.string(),
      z
        .object({
          project: z.string(),
          language: z.enum(["dotnet", "csharp", "fsharp", "py", "python", "js", "ts", "java", "go", "golang", "docker"]),
          host: z.enum(["appservice", "containerapp", "function", "springapp", "staticwebapp", "aks"]),
          dist: z.string().optional(),
          remoteBuild: z.boolean().optional(),
          hooks: serviceHooks.optional(),
        })
        .strict(),
    ),
    hooks: commandHooks.optional(),
  })
  .strict();

/** The `azd env` of a test: values in a map, nested azd runs recorded. */
function environment(values: Record<string, string>): AzdEnvironment & { values: Map<string, string>; runs: string[][] } {
  const map = new Map(Object.entries(values));
  const runs: string[][] = [];
  return {
    values: map,
    runs,
    get: (name) => map.get(name) || undefined,
    set: (name, value) => void map.set(name, value),
    azd: (args) => void runs.push(args),
  };
}

let graph: FakeGraph;
const TOKEN = "graph-token";
const graphClient = () => ({ baseUrl: graph.url, token: async () => TOKEN });

beforeAll(async () => {
  graph = await new FakeGraph(TOKEN).start();
});
afterAll(async () => {
  await graph?.stop();
});

describe("azd up, checked dry", () => {
  it("has an azure.yaml that fits azd's schema, whose hooks all resolve to ours", () => {
    const config = azureYaml.parse(parse(readFileSync(join(PROJECT_ROOT, "azure.yaml"), "utf8")));
    expect(config.infra).toEqual({ provider: "bicep", path: "infra", module: "main" });
    expect(existsSync(join(PROJECT_ROOT, "infra", "main.bicep"))).toBe(true);
    const api = config.services.api!;
    expect(api).toMatchObject({ host: "function", project: ".", dist: ".azure-package" });
    const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const runs = [config.hooks, api.hooks].flatMap((hooks) =>
      Object.entries(hooks ?? {}).flatMap(([name, h]) =>
        h && "run" in h ? [[name, h.run]] : [h?.posix, h?.windows].filter(Boolean).map((s) => [name, s!.run]),
      ),
    );
    expect(runs.length).toBeGreaterThanOrEqual(8);
    for (const [name, run] of runs) {
      expect(run).toBe(`npm run --silent azd-hook ${name}`);
      expect(HOOKS).toContain(name);
    }
    expect(scripts["azd-hook"]).toBe("tsc -b && node dist/infra/hooks/azd-hook.js");
  });

  it("passes the Bicep every parameter it requires, from values azd or the hooks provide", async () => {
    const bicep = await parseBicepFile(join(PROJECT_ROOT, "infra", "main.bicep"));
    const file = JSON.parse(readFileSync(join(PROJECT_ROOT, "infra", "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = bicep.parameters.map((p) => p.name);
    for (const name of Object.keys(file.parameters)) expect(declared, name).toContain(name);
    for (const p of bicep.parameters.filter((p) => p.required)) expect(Object.keys(file.parameters), p.name).toContain(p.name);
    const fromAzd = ["AZURE_ENV_NAME", "AZURE_LOCATION"];
    const fromHooks = ["AUTH_AUDIENCE", "AUTH_CLIENT_ID", "SERVICE_KEYS_SECRET"];
    for (const m of JSON.stringify(file).matchAll(/\$\{([A-Z_]+)(=[^}]*)?\}/g)) {
      const [, name, fallback] = m;
      expect(fallback !== undefined || [...fromAzd, ...fromHooks].includes(name!), `${name} has no value`).toBe(true);
    }
    // azd deploys the service `api` to the Function App tagged with its name.
    const functionApp = await parseBicepFile(join(PROJECT_ROOT, "infra", "modules", "functionapp.bicep"));
    const site = functionApp.resources.find((r) => r.type === "Microsoft.Web/sites")!;
    expect(readFileSync(join(PROJECT_ROOT, "infra", "modules", "functionapp.bicep"), "utf8")).toContain(
      "tags: union(tags, { 'azd-service-name': 'api' })",
    );
    expect(site).toBeDefined();
  });

  it("registers the API in Entra ID before provisioning: v2 tokens, user_impersonation, the Azure CLI pre-authorized, a service principal; again changes nothing", async () => {
    const env = environment({ AZURE_ENV_NAME: "mm-dev", AZURE_SUBSCRIPTION_ID: "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10" });
    await preprovision(env, graphClient());
    const [app] = [...graph.apps.values()];
    expect(graph.apps.size).toBe(1);
    const scope = app!.api!.oauth2PermissionScopes![0]!;
    expect(app).toMatchObject({
      uniqueName: registrationName(env),
      signInAudience: "AzureADMyOrg",
      identifierUris: [`api://${app!.appId}`],
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [expect.objectContaining({ value: "user_impersonation", type: "User", isEnabled: true })],
        preAuthorizedApplications: [{ appId: AZURE_CLI_APP_ID, delegatedPermissionIds: [scope.id] }],
      },
    });
    expect([...graph.servicePrincipals.values()]).toEqual([expect.objectContaining({ appId: app!.appId })]);
    expect(env.values.get("AUTH_CLIENT_ID")).toBe(app!.appId);
    expect(env.values.get("AUTH_AUDIENCE")).toBe(`api://${app!.appId}`);
    const secret = env.values.get("SERVICE_KEYS_SECRET")!;
    expect(Buffer.from(secret, "base64")).toHaveLength(32);

    await preprovision(env, graphClient());
    expect(graph.apps.size).toBe(1);
    expect(graph.servicePrincipals.size).toBe(1);
    expect([...graph.apps.values()][0]!.api!.oauth2PermissionScopes![0]!.id).toBe(scope.id);
    expect(env.values.get("SERVICE_KEYS_SECRET")).toBe(secret);

    // azd down takes the registration with it, for good (its unique name is free again).
    await postdown(env, graphClient());
    expect(graph.apps.size).toBe(0);
    expect(graph.servicePrincipals.size).toBe(0);
    expect(graph.deletedItems.size).toBe(0);
    expect(env.get("AUTH_CLIENT_ID")).toBeUndefined();
    await preprovision(env, graphClient());
    expect(graph.apps.size).toBe(1);
    await postdown(env, graphClient());
  });

  it("leaves an app registration the environment names alone, and says what to do when the user may not register one", async () => {
    const calls = graph.calls.length;
    const own = environment({ AZURE_ENV_NAME: "byo", AUTH_CLIENT_ID: "11111111-2222-3333-4444-555555555555", SERVICE_KEYS_SECRET: "kept" });
    await preprovision(own, graphClient());
    expect(graph.calls.length).toBe(calls);
    expect(own.values.get("SERVICE_KEYS_SECRET")).toBe("kept");
    await postdown(own, graphClient());
    expect(graph.calls.length).toBe(calls);

    graph.refuseWith = 403;
    try {
      await expect(preprovision(environment({ AZURE_ENV_NAME: "locked" }), graphClient())).rejects.toThrow(
        /may not register applications in this tenant[\s\S]*azd env set AUTH_CLIENT_ID/,
      );
    } finally {
      graph.refuseWith = undefined;
    }
  });

  it("wires model drops once the code is deployed, by provisioning again once", () => {
    const env = environment({ AZURE_ENV_NAME: "mm-dev" });
    postdeploy(env);
    postdeploy(env);
    expect(env.runs).toEqual([["provision", "--no-prompt"]]);
    expect(env.values.get("WIRE_MODEL_BLOB_EVENTS")).toBe("true");
  });

  it("copies the base image into the project's registry once, where the Function App's IMAGE_BASE points", async () => {
    // No build sources in this test: the fake ACR's upload store is never used.
    const acr = new FakeAcr("6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10", "rg-mm-dev", "mmdevacr", undefined as never, "arm-token");
    const client = new ContainerRegistryManagementClient(
      fakeCredential({ "https://management.azure.com/.default": "arm-token" }),
      "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10",
      {
        httpClient: acr.arm(),
      },
    );
    const env = environment({ ACR_REGISTRY_ID: acr.registryId, ACR_LOGIN_SERVER: acr.loginServer });
    await postprovision(env, client);
    await postprovision(env, client);
    expect(acr.imports).toEqual([
      {
        source: { registryUri: "docker.io", sourceImage: "library/python:3.11-slim" },
        targetTags: ["base/python:3.11-slim"],
        mode: "Force",
      },
    ]);
    expect(acr.invalidBodies).toEqual([]);
    const settings = readFileSync(join(PROJECT_ROOT, "infra", "modules", "functionapp.bicep"), "utf8");
    expect(settings).toContain(`{ name: 'IMAGE_BASE', value: '\${registryLoginServer}/${BASE_IMAGE.target}' }`);
    // After azd down the environment forgets it: the next azd up copies it into the new registry.
    await postdown(env, graphClient());
    await postprovision(env, client);
    expect(acr.imports).toHaveLength(2);
  });

  it("packages the built app with its production dependencies only, and the package loads", () => {
    const dir = `.azure-package-test-${process.pid}`;
    try {
      const target = assembleAppPackage(PROJECT_ROOT, dir);
      for (const entry of ["dist/functions/index.js", "scoring/server.py", "host.json", "package.json", "node_modules/@azure/functions"])
        expect(existsSync(join(target, entry)), entry).toBe(true);
      for (const unused of ["node_modules/vitest", "node_modules/azurite", "dist/test", "dist/bench", "test", "infra"])
        expect(existsSync(join(target, unused)), unused).toBe(false);
      const loaded = execFileSync(process.execPath, ["-e", "import('./dist/functions/index.js').then(() => console.log('loaded'))"], {
        cwd: target,
        encoding: "utf8",
        env: { ...process.env, NODE_ENV: "production" },
      });
      expect(loaded.trim().split("\n").pop()).toBe("loaded");
    } finally {
      rmSync(join(PROJECT_ROOT, dir), { recursive: true, force: true });
    }
  }, 180_000);
});
