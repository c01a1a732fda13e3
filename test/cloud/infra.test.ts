import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { settingsSchema } from "../../shared/config.js";
import { PARTITION_KEY_PATH } from "../../shared/store/cosmos.js";
import { MODEL_DROP_CONTAINER, UPLOAD_CONTAINER } from "../../shared/schemas/storage-layout.js";
import { PROJECT_ROOT } from "../support/local-stack.js";

/**
 * No Bicep compiler installs here (it is a download), so these tests read the Bicep as text and
 * hold it to the code: every setting the app needs is set, nothing secret is, and the names of
 * containers, queues and partition keys are the code's own.
 */
const infra = join(PROJECT_ROOT, "infra");
const read = (file: string) => readFileSync(join(infra, file), "utf8");
const modules = readdirSync(join(infra, "modules")).map((f) => `modules/${f}`);
const functionApp = read("modules/functionapp.bicep");
const appSettings = [...functionApp.matchAll(/^\s*\{ name: '([^']+)', value: (.*) \}\s*$/gm)].map((m) => ({
  name: m[1]!,
  value: m[2]!.trim(),
}));
const settingNames = appSettings.map((s) => s.name);
const shape = settingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
const defaultOf = (key: string): unknown =>
  (settingsSchema.shape as unknown as Record<string, { parse(v: unknown): unknown }>)[key]!.parse(undefined);

describe("the Bicep in infra/", () => {
  it("sets every app setting the config schema requires, and the ones Azure mode needs", () => {
    const required = Object.keys(shape).filter((k) => !shape[k]!.safeParse(undefined).success);
    expect(required.length).toBeGreaterThan(0);
    for (const key of required) expect(settingNames, `${key} is required by shared/config.ts`).toContain(key);
    // Not required locally, needed in Azure: the AKS target, ACR Tasks, the builder's scratch space,
    // the key that encrypts service keys, the queue names the triggers resolve as %SETTING%.
    for (const key of [
      "COMPUTE_TARGETS",
      "AKS_NAMESPACE_ROLE_ID",
      "ACR_REGISTRY_ID",
      "ACR_LOGIN_SERVER",
      "IMAGES_DIR",
      "SERVICE_KEYS_SECRET",
      "IMAGE_BUILD_QUEUE",
      "SERVICE_ROLLOUT_QUEUE",
      "STORAGE_PURGE_QUEUE",
      "AzureWebJobsStorage__accountName",
    ]) {
      expect(settingNames).toContain(key);
    }
  });

  it("sets only settings the app or the Functions host reads", () => {
    const hostSettings = [
      "AzureWebJobsStorage__accountName",
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
      // The host's bound on request bodies, read before any function runs (functions-app-settings.md).
      "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
    ];
    for (const name of settingNames) expect([...Object.keys(shape), ...hostSettings], `${name} is read by nobody`).toContain(name);
  });

  it("keeps secrets out of app settings: identity-based connections and a Key Vault reference", () => {
    expect(settingNames).not.toContain("COSMOS_KEY");
    expect(settingNames).not.toContain("AzureWebJobsStorage");
    for (const s of appSettings) expect(s.value).not.toMatch(/AccountKey=|SharedAccessSignature|listKeys\(/);
    expect(appSettings.find((s) => s.name === "SERVICE_KEYS_SECRET")!.value).toMatch(
      /^'@Microsoft\.KeyVault\(SecretUri=\$\{serviceKeysSecretUri\}\)'$/,
    );
    expect(read("modules/storage.bicep")).toContain("allowSharedKeyAccess: false");
    expect(read("modules/cosmos.bicep")).toContain("disableLocalAuth: true");
    expect(read("modules/registry.bicep")).toContain("adminUserEnabled: false");
    expect(read("modules/aks.bicep")).toContain("disableLocalAccounts: true");
  });

  it("creates the Cosmos database, container and partition key the code uses", () => {
    const main = read("main.bicep");
    expect(main).toContain(`var cosmosDatabase = '${defaultOf("COSMOS_DATABASE")}'`);
    expect(main).toContain(`var cosmosContainer = '${defaultOf("COSMOS_CONTAINER")}'`);
    expect(main).toContain(`var cosmosPartitionKey = '${PARTITION_KEY_PATH}'`);
    expect(read("modules/cosmos.bicep")).toMatch(/partitionKey: \{ paths: \[partitionKeyPath\], kind: 'Hash'/);
  });

  it("creates the queues and blob containers the code uses, and wires BlobCreated of the models container to the hook", () => {
    const storage = read("modules/storage.bicep");
    for (const queue of [
      defaultOf("IMAGE_BUILD_QUEUE"),
      defaultOf("SERVICE_ROLLOUT_QUEUE"),
      defaultOf("STORAGE_PURGE_QUEUE"),
    ] as string[]) {
      expect(storage).toContain(`'${queue}'`);
      expect(storage).toContain(`'${queue}-poison'`);
    }
    for (const container of [MODEL_DROP_CONTAINER, UPLOAD_CONTAINER, "build-logs", "modeldata"])
      expect(storage).toContain(`'${container}'`);
    const eventGrid = read("modules/eventgrid.bicep");
    expect(eventGrid).toContain("includedEventTypes: ['Microsoft.Storage.BlobCreated']");
    expect(eventGrid).toContain(`subjectBeginsWith: '/blobServices/default/containers/${MODEL_DROP_CONTAINER}/blobs/'`);
    const functionName = /\/functions\/(\w+)'/.exec(eventGrid)![1]!;
    expect(readFileSync(join(PROJECT_ROOT, "functions", "index.ts"), "utf8")).toContain(`app.eventGrid("${functionName}"`);
  });

  it("names every role assignment with guid() and every built-in role id with a comment", () => {
    for (const file of ["main.bicep", ...modules]) {
      const text = read(file);
      const assignments = [
        ...text.matchAll(
          /resource \w+ '(Microsoft\.Authorization\/roleAssignments|Microsoft\.DocumentDB\/databaseAccounts\/sqlRoleAssignments)@[^']+' = \{\n\s+(?:parent: \w+\n\s+)?name: ([^\n]+)/g,
        ),
      ];
      for (const a of assignments) expect(a[2], `${file}: ${a[0].split("\n")[0]}`).toMatch(/^guid\(/);
      for (const m of text.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'(.*)$/gm))
        expect(m[2], `${file}: role ${m[1]} needs a comment naming it`).toMatch(/\/\/ \S/);
    }
  });
});
