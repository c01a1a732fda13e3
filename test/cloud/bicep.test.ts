import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Mapper } from "@azure/core-client";
import { EXPRESSION, parseBicep, parseBicepFile, type BicepFile, type BicepValue } from "../support/bicep.js";
import { shapeErrors } from "../support/sdk-shape.js";
import { PROJECT_ROOT } from "../support/local-stack.js";

const infra = join(PROJECT_ROOT, "infra");
const files = ["main.bicep", ...readdirSync(join(infra, "modules")).map((f) => `modules/${f}`)];
const parsed = async (): Promise<Map<string, BicepFile>> =>
  new Map(await Promise.all(files.map(async (f) => [f, await parseBicepFile(join(infra, f))] as const)));

/**
 * The model each resource type's body is, in the Azure SDK of its resource provider: its mappers
 * are generated from the provider's REST specification, as Bicep's own types are.
 */
const MODELS: Record<string, [sdk: string, model: string]> = {
  "Microsoft.Authorization/roleAssignments": ["@azure/arm-authorization", "RoleAssignmentCreateParameters"],
  "Microsoft.Authorization/roleDefinitions": ["@azure/arm-authorization", "RoleDefinition"],
  "Microsoft.ContainerRegistry/registries": ["@azure/arm-containerregistry", "Registry"],
  "Microsoft.ContainerService/managedClusters": ["@azure/arm-containerservice", "ManagedCluster"],
  "Microsoft.DocumentDB/databaseAccounts": ["@azure/arm-cosmosdb", "DatabaseAccountCreateUpdateParameters"],
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases": ["@azure/arm-cosmosdb", "SqlDatabaseCreateUpdateParameters"],
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers": ["@azure/arm-cosmosdb", "SqlContainerCreateUpdateParameters"],
  "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments": ["@azure/arm-cosmosdb", "SqlRoleAssignmentCreateUpdateParameters"],
  "Microsoft.EventGrid/systemTopics": ["@azure/arm-eventgrid", "SystemTopic"],
  "Microsoft.EventGrid/systemTopics/eventSubscriptions": ["@azure/arm-eventgrid", "EventSubscription"],
  "Microsoft.Insights/components": ["@azure/arm-appinsights", "ApplicationInsightsComponent"],
  "Microsoft.KeyVault/vaults": ["@azure/arm-keyvault", "VaultCreateOrUpdateParameters"],
  "Microsoft.KeyVault/vaults/secrets": ["@azure/arm-keyvault", "SecretCreateOrUpdateParameters"],
  "Microsoft.OperationalInsights/workspaces": ["@azure/arm-operationalinsights", "Workspace"],
  "Microsoft.Storage/storageAccounts": ["@azure/arm-storage", "StorageAccountCreateParameters"],
  "Microsoft.Storage/storageAccounts/blobServices": ["@azure/arm-storage", "BlobServiceProperties"],
  "Microsoft.Storage/storageAccounts/blobServices/containers": ["@azure/arm-storage", "BlobContainer"],
  "Microsoft.Storage/storageAccounts/queueServices": ["@azure/arm-storage", "QueueServiceProperties"],
  "Microsoft.Storage/storageAccounts/queueServices/queues": ["@azure/arm-storage", "StorageQueue"],
  "Microsoft.Web/serverfarms": ["@azure/arm-appservice", "AppServicePlan"],
  "Microsoft.Web/sites": ["@azure/arm-appservice", "Site"],
};

/** Bicep's own keys of a resource declaration, which are not part of the resource's body. */
const DECLARATION_KEYS = ["name", "parent", "scope", "dependsOn"];

const require = createRequire(import.meta.url);

/** An SDK's mappers: not exported by the newer packages, so read from the package's own build. */
async function mappersOf(sdk: string): Promise<Record<string, Mapper>> {
  const main = require(sdk) as Record<string, unknown>;
  // The older generation (@azure/ms-rest-js) exports them.
  const exported = Object.entries(main).find(([k]) => k.endsWith("Mappers") && k !== "Mappers")?.[1];
  if (exported) return exported as Record<string, Mapper>;
  let dir = dirname(require.resolve(sdk));
  while (!dir.endsWith(sdk.split("/")[1]!)) dir = dirname(dir);
  for (const candidate of ["dist/esm/models/mappers.js", "dist-esm/src/models/mappers.js"]) {
    try {
      return (await import(pathToFileURL(join(dir, candidate)).href)) as Record<string, Mapper>;
    } catch {
      // not this layout
    }
  }
  throw new Error(`${sdk} has no model mappers in a known place`);
}

async function bodyErrors(type: string, body: Record<string, BicepValue>): Promise<string[]> {
  const [sdk, model] = MODELS[type] ?? [];
  if (!sdk || !model) return [`no SDK model listed for ${type}`];
  const mappers = await mappersOf(sdk);
  const mapper = mappers[model];
  if (!mapper) return [`${sdk} has no model ${model}`];
  const fields = Object.fromEntries(Object.entries(body).filter(([k]) => !DECLARATION_KEYS.includes(k)));
  return shapeErrors(mapper, mappers, fields, { values: false });
}

describe("the Bicep in infra/, read with tree-sitter-bicep", () => {
  it("parses with no syntax error, as a broken file would not", async () => {
    for (const [file, bicep] of await parsed()) expect(bicep.syntaxErrors, file).toEqual([]);
    const broken = await parseBicep(
      "param location string\nresource x 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: \n  location: location\n",
    );
    expect(broken.syntaxErrors.length).toBeGreaterThan(0);
  });

  it("names only properties the Azure SDK's model of each resource type has", async () => {
    let checked = 0;
    const problems: string[] = [];
    for (const [file, bicep] of await parsed()) {
      for (const r of bicep.resources) {
        if (r.existing) continue;
        for (const e of await bodyErrors(r.type, r.body)) problems.push(`${file}:${r.line} ${r.symbol} (${r.type}) ${e}`);
        checked += 1;
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(25);
    // A misspelt or misplaced property is found.
    expect(
      await bodyErrors("Microsoft.Storage/storageAccounts", {
        name: "x",
        sku: { name: "Standard_LRS" },
        properties: { allowSharedKeyAcess: false },
        minimumTlsVersion: "TLS1_2",
      }),
    ).toEqual(["properties.allowSharedKeyAcess: no such property", "minimumTlsVersion: no such property"]);
    expect(
      await bodyErrors("Microsoft.EventGrid/systemTopics/eventSubscriptions", {
        properties: { destination: { endpointType: "AzureFunction", properties: { resourceId: EXPRESSION, endpointUrl: "https://x" } } },
      }),
    ).toEqual(["properties.destination.properties.endpointUrl: no such property"]);
  });

  it("calls every module with parameters it declares, and all it requires", async () => {
    const all = await parsed();
    let calls = 0;
    for (const [file, bicep] of all) {
      for (const m of bicep.modules) {
        const target = all.get(join(dirname(file), m.path).replace(/^\.\//, ""))!;
        expect(target, `${file}: module ${m.path}`).toBeDefined();
        const declared = target.parameters.map((p) => p.name);
        for (const name of Object.keys(m.params)) expect(declared, `${file}:${m.line} ${m.symbol} passes ${name}`).toContain(name);
        for (const p of target.parameters.filter((p) => p.required))
          expect(Object.keys(m.params), `${file}:${m.line} ${m.symbol} must pass ${p.name}`).toContain(p.name);
        calls += 1;
      }
    }
    expect(calls).toBeGreaterThanOrEqual(9);
  });

  it("gives names that stay unique where Azure wants them unique", async () => {
    const all = await parsed();
    const roles = all.get("modules/roles.bicep")!.resources.filter((r) => r.type === "Microsoft.Authorization/roleDefinitions");
    expect(roles.length).toBeGreaterThanOrEqual(4);
    for (const role of roles) {
      const name = (role.body.properties as Record<string, BicepValue>).roleName;
      // Custom role names are unique in the tenant: the resource group's name alone repeats across subscriptions.
      expect(name, role.symbol).toBe(EXPRESSION);
    }
    const rolesText = readFileSync(join(infra, "modules", "roles.bicep"), "utf8");
    for (const m of rolesText.matchAll(/roleName: '([^']*)'/g)) expect(m[1]).toContain("${uniqueString(resourceGroup().id)}");
    // A deleted vault's name stays taken for 90 days (purge protection): the name is a parameter.
    expect(all.get("main.bicep")!.parameters).toContainEqual({ name: "keyVaultName", required: false });
    expect(all.get("modules/keyvault.bicep")!.resources.find((r) => r.symbol === "vault")!.body.name).toBe(EXPRESSION);
    // Model drops Event Grid cannot deliver are kept, not dropped.
    const subscription = all.get("modules/eventgrid.bicep")!.resources.find((r) => r.type.endsWith("/eventSubscriptions"))!;
    const deadLetter = (subscription.body.properties as Record<string, Record<string, Record<string, BicepValue>>>)
      .deadLetterWithResourceIdentity;
    expect(deadLetter!.deadLetterDestination!.endpointType).toBe("StorageBlob");
  });
});
