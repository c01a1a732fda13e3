import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, createAccount, readAllPages, tokensFor, waitForOperation } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { freePort } from "../support/ports.js";
import { resourcesContainer, sharedStack } from "../support/shared-stack.js";
import { dataPartitionAt } from "../../shared/store/account-repository.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

const A = DEFAULT_ACCOUNT;
let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** A python3 that takes its time: builds last long enough to be interrupted. */
function slowPython(seconds: number): string {
  const path = join(mkdtempSync(join(tmpdir(), "mm-python-")), "python");
  writeFileSync(path, `#!/bin/sh\nsleep ${seconds}\nexec python3 "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

async function imageRequest(api: ApiClient, blobs: TestBlobs, name: string, settle = false): Promise<string> {
  const modelUrl = await blobs.put(`${name}/model.json`, LINEAR_MODEL);
  const driverUrl = await blobs.put(`${name}/score.py`, LINEAR_DRIVER);
  // Azurite saves its blob index every 5 s: a blob younger than that does not survive kill -9.
  if (settle) await new Promise((r) => setTimeout(r, 5500));
  const model = await api.post(`${A}/models`, { name: `${name}-model`, mimeType: "application/json", url: modelUrl });
  const manifest = await api.post(`${A}/manifests`, {
    name,
    driverProgram: "score.py",
    assets: [{ id: "score.py", url: driverUrl }],
    modelIds: [model.body.id],
    targetRuntime: { runtimeType: "Python", properties: {} },
  });
  const res = await api.post(`${A}/images`, { name, imageType: "Docker", computeResourceId: "local", manifestId: manifest.body.id });
  expect(res.status, res.text).toBe(202);
  return res.headers.get("operation-location")!;
}

describe("image builds across failures", () => {
  it("completes a build once after the whole stack is killed in the middle of it", async () => {
    const env = { PYTHON: slowPython(3), OPERATION_STALL_SECONDS: "2" };
    stack = await startLocalStack({ env });
    const token = await (await tokensFor(stack.dataDir))();
    let api = new ApiClient(stack.apiBaseUrl, token);
    const blobs = new TestBlobs(stack.ports.blobPort);
    const location = await imageRequest(api, blobs, "crashed", true);
    for (let i = 0; ; i++) {
      const op = await api.request("GET", location, { apiVersion: null });
      if (op.body.state === "Running") break;
      expect(i).toBeLessThan(100);
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.kill9();

    stack = await startLocalStack({ dataDir: stack.dataDir, ports: stack.ports, env });
    api = new ApiClient(stack.apiBaseUrl, token);
    const operation = await waitForOperation(api, location, 60_000);
    expect(operation.state, JSON.stringify(operation.error)).toBe("Succeeded");
    const images = await readAllPages(api, `${A}/images`, { count: "1000" });
    const crashed = images.items.filter((i) => i.name === "crashed");
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({ version: 1, creationState: "Succeeded" });
    expect(operation.resourceLocation).toContain(crashed[0]!.id);
  });

  it("ends the operation Failed, saying why, when every attempt fails and the message is poisoned", async () => {
    stack = await startLocalStack({
      env: {
        // A registry nobody listens on: every push fails, as a transient error would.
        IMAGE_REGISTRY: `127.0.0.1:${await freePort()}`,
        IMAGE_REGISTRY_PLAIN_HTTP: "true",
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "00:00:00",
      },
    });
    const api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
    const location = await imageRequest(api, new TestBlobs(stack.ports.blobPort), "poisoned");
    const operation = await waitForOperation(api, location, 60_000);
    expect(operation.state).toBe("Failed");
    expect(operation.error.code).toBe("ImageBuildFailed");
    expect(operation.error.message).toMatch(/failed on every attempt.*ECONNREFUSED/);
    const image = (await api.request("GET", operation.resourceLocation, { apiVersion: null })).body;
    expect(image.creationState).toBe("Failed");
    expect(image.error.code).toBe("ImageBuildFailed");
  });

  it("fails an operation left unfinished past its deadline (the sweeper timer)", async () => {
    const shared = await sharedStack();
    const account = await createAccount(shared.owner, `sweep-${randomUUID().slice(0, 8)}`);
    const longAgo = new Date(Date.now() - 10 * 3600_000).toISOString();
    const imageId = randomUUID();
    const operationId = randomUUID();
    const container = resourcesContainer(shared.cosmosEndpoint);
    const partition = await dataPartitionAt(container, account);
    // A build whose worker vanished hours ago, as a crash without recovery would leave it.
    await container.items.create({
      id: imageId,
      pk: partition,
      kind: "image",
      name: "stuck",
      version: 1,
      computeResourceId: "local",
      imageType: "Docker",
      manifestId: randomUUID(),
      manifestName: "m",
      createdTime: longAgo,
      creationState: "Running",
      operationId,
    });
    await container.items.create({
      id: operationId,
      pk: partition,
      kind: "operation",
      operationType: "Image",
      state: "Running",
      createdTime: longAgo,
      heartbeatAt: longAgo,
      resourcePath: `/api/${account}/images/${imageId}`,
      resourceId: imageId,
      attempts: 1,
    });
    const operation = await waitForOperation(
      shared.owner,
      `${shared.apiBaseUrl}/${account}/operations/${operationId}?api-version=2017-09-01-preview`,
      30_000,
    );
    expect(operation.state).toBe("Failed");
    expect(operation.error.code).toBe("OperationTimedOut");
    const image = await shared.owner.get(`${account}/images/${imageId}`);
    expect(image.body.creationState).toBe("Failed");
  });
});
