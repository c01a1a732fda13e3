import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { ApiClient, DEFAULT_ACCOUNT, readAllPages, tokensFor, waitForOperation } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs, today, waitForBlob } from "../support/blobs.js";
import { requireTool } from "../support/tools.js";
import type { Swagger } from "../support/swagger.js";
import { jsonOf } from "../support/http.js";
import { Deployer, score } from "../support/deploy.js";
import type { DeploymentView } from "../../shared/views.js";
import { BATCH_DRIVER, COUNTING_DRIVER, FAILING_INIT_DRIVER, LINEAR_DRIVER, SKLEARN_DRIVER, SLOW_DRIVER } from "../fixtures/drivers.js";

/** Debian's Python: python3-sklearn installs for it (CI installs the package). */
const PYTHON = "/usr/bin/python3";
const A = DEFAULT_ACCOUNT;
let stack: LocalStack;
let api: ApiClient;
let blobs: TestBlobs;
let deployer: Deployer;

beforeAll(async () => {
  requireTool(PYTHON, "python3");
  try {
    execFileSync(PYTHON, ["-c", "import sklearn, joblib"], { stdio: "ignore" });
  } catch {
    throw new Error(`This test needs scikit-learn for ${PYTHON}. Install it with: apt-get install -y python3-sklearn`);
  }
  stack = await startLocalStack({ env: { PYTHON, OPERATION_STALL_SECONDS: "30" } });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  blobs = new TestBlobs(stack.ports.blobPort);
  deployer = new Deployer(api, blobs, A);
});

const buildImage = (...args: Parameters<Deployer["buildImage"]>) => deployer.buildImage(...args);
const createService = (...args: Parameters<Deployer["createService"]>) => deployer.createService(...args);

afterAll(async () => {
  await stack?.stop();
});

/** The local runtime's own view of a service (replica counts), through its control API. */
async function runtimeStatus(targetName: string): Promise<{ replicas: unknown[] }> {
  const token = readFileSync(join(stack.dataDir, "auth", "runtime-token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${stack.ports.runtimePort}/v1/services/${targetName}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return jsonOf(res);
}

describe("services on the local runtime", () => {
  it("deploys a scikit-learn model trained here and answers its real predictions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-sklearn-"));
    const script = `
import json, joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
joblib.dump(model, "${dir}/model.pkl")
rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
print(json.dumps(model.predict(rows).tolist()))
`;
    const expected = JSON.parse(execFileSync(PYTHON, ["-c", script], { encoding: "utf8" }));
    const { imageId } = await buildImage("iris", SKLEARN_DRIVER, { file: "model.pkl", content: readFileSync(join(dir, "model.pkl")) });
    const { op, service, keys } = await createService("iris", imageId);
    expect(op.state, JSON.stringify(op.error)).toBe("Succeeded");
    expect(service).toMatchObject({ name: "iris", state: "Succeeded", imageId, computeResource: { id: "local", type: "Cluster" } });
    expect(service.image.id).toBe(imageId);
    expect(service.manifest.name).toBe("iris");
    expect(service.models.map((m: { name: string }) => m.name)).toEqual(["iris-model"]);
    expect(service.scoringUri).toMatch(/\/api\/v1\/service\/iris-[0-9a-f]{6}\/score$/);
    const res = await score(service.scoringUri, keys.primaryKey, {
      data: [
        [5.1, 3.5, 1.4, 0.2],
        [6.7, 3.0, 5.2, 2.3],
        [5.9, 3.0, 4.2, 1.5],
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expected);
    expect(expected).toEqual([0, 2, 1]);
    const swagger = await fetch(service.scoringUri.replace(/score$/, "swagger.json"));
    expect(((await swagger.json()) as Swagger).swagger).toBe("2.0");
  });

  it("requires a key: a missing or wrong one is a 401 that never reaches the driver; regenerating works at once", async () => {
    const { imageId } = await buildImage("counting", COUNTING_DRIVER);
    const { service, keys } = await createService("counting", imageId, { numReplicas: 1 });
    expect((await jsonOf<{ calls: number }>(await score(service.scoringUri, keys.primaryKey, {}))).calls).toBe(1);
    const none = await score(service.scoringUri, undefined, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await score(service.scoringUri, "not-the-key", {})).status).toBe(401);
    expect((await jsonOf<{ calls: number }>(await score(service.scoringUri, keys.secondaryKey, {}))).calls).toBe(2);

    const regenerated = await api.post(`${A}/services/${service.id}/keys`, { keyType: "Primary" });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.primaryKey).not.toBe(keys.primaryKey);
    expect(regenerated.body.secondaryKey).toBe(keys.secondaryKey);
    expect((await score(service.scoringUri, keys.primaryKey, {})).status).toBe(401);
    expect((await jsonOf<{ calls: number }>(await score(service.scoringUri, regenerated.body.primaryKey, {}))).calls).toBe(3);
    const viaCli = await api.post(`${A}/services/${service.id}/regenerateKeys`, { keyType: "Secondary" });
    expect(viaCli.status).toBe(200);
    expect((await score(service.scoringUri, keys.secondaryKey, {})).status).toBe(401);
    expect((await score(service.scoringUri, viaCli.body.secondaryKey, {})).status).toBe(200);
    expect((await api.get(`${A}/services/${service.id}/keys`)).body).toEqual(viaCli.body);
    expect((await api.post(`${A}/services/${service.id}/keys`, { keyType: "Tertiary" })).status).toBe(400);
  });

  it("refuses a taken name (409), numReplicas with an enabled autoscaler, unknown compute and unbuilt images (400)", async () => {
    const { imageId } = await buildImage("refusals", LINEAR_DRIVER);
    await createService("taken", imageId);
    const taken = await api.post(`${A}/services`, { name: "taken", imageId, computeResource: { id: "local" } });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("ServiceNameConflict");
    const both = await api.post(`${A}/services`, {
      name: "both",
      imageId,
      computeResource: { id: "local" },
      numReplicas: 2,
      autoScaler: { autoscaleEnabled: true },
    });
    expect(both.status).toBe(400);
    expect(both.body.details[0]!.message).toMatch(/^numReplicas: cannot be given when the autoscaler is enabled/);
    const unknown = await api.post(`${A}/services`, { name: "nowhere", imageId, computeResource: { id: "/subscriptions/x/aks/y" } });
    expect(unknown.body.code).toBe("UnknownComputeResource");
    const ghost = await api.post(`${A}/services`, { name: "ghost", imageId: randomUUID(), computeResource: { id: "local" } });
    expect(ghost.body.code).toBe("ImageNotReady");
    expect((await readAllPages(api, `${A}/services`, { serviceName: "both" })).items).toEqual([]);
  });

  it("lists services with every filter and pagination", async () => {
    const one = await buildImage("filter-one", LINEAR_DRIVER);
    const two = await buildImage("filter-two", LINEAR_DRIVER);
    const s1 = (await createService("filter-a", one.imageId)).service;
    const s2 = (await createService("filter-b", one.imageId)).service;
    const s3 = (await createService("filter-c", two.imageId)).service;
    const ids = async (query: Record<string, string>) =>
      (await readAllPages(api, `${A}/services`, { count: "1", ...query })).items.map((s) => s.id).sort();
    expect(await ids({ serviceName: "filter-b" })).toEqual([s2.id]);
    expect(await ids({ imageId: one.imageId })).toEqual([s1.id, s2.id].sort());
    expect(await ids({ manifestId: two.manifestId })).toEqual([s3.id]);
    expect(await ids({ manifestName: "filter-one" })).toEqual([s1.id, s2.id].sort());
    expect(await ids({ modelId: two.modelId })).toEqual([s3.id]);
    expect(await ids({ modelName: "filter-one-model" })).toEqual([s1.id, s2.id].sort());
    expect((await ids({ computeResourceId: "local" })).length).toBeGreaterThanOrEqual(3);
    const paged = await readAllPages(api, `${A}/services`, { imageId: one.imageId, count: "1" });
    expect(paged.pages).toBe(2);
  });

  it("updates to a new model under a scoring loop with no failed request, and records the deployments", async () => {
    const first = await buildImage("rolling", LINEAR_DRIVER, { file: "model.json", content: JSON.stringify({ weights: [1, 1, 1] }) });
    const second = await buildImage("rolling", LINEAR_DRIVER, { file: "model.json", content: JSON.stringify({ weights: [2, 2, 2] }) });
    const { service, keys } = await createService("rolling", first.imageId, { numReplicas: 2 });
    let stop = false;
    const answers: number[] = [];
    const failures: string[] = [];
    const loop = (async () => {
      while (!stop) {
        try {
          const res = await score(service.scoringUri, keys.primaryKey, { data: [[1, 1, 1]] });
          if (res.status === 200) answers.push(((await res.json()) as number[])[0]!);
          else failures.push(`${res.status} ${await res.text()}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const update = await api.put(`${A}/services/${service.id}`, { imageId: second.imageId });
    expect(update.status, update.text).toBe(202);
    const op = await waitForOperation(api, update.headers.get("operation-location")!, 90_000);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await loop;
    expect(op.state, JSON.stringify(op.error)).toBe("Succeeded");
    expect(failures).toEqual([]);
    expect(answers[0]).toBe(3);
    expect(answers[answers.length - 1]).toBe(6);
    const updated = (await api.get(`${A}/services/${service.id}`)).body;
    expect(updated).toMatchObject({ imageId: second.imageId, numReplicas: 2, state: "Succeeded" });
    const deployments = (await api.get<DeploymentView[]>(`${A}/deployments`, { serviceId: service.id })).body;
    expect(deployments).toHaveLength(2);
    expect(deployments.map((d) => d.imageId)).toEqual([second.imageId, first.imageId]);
    expect(deployments[0]!.expiredAt).toBeUndefined();
    expect(deployments[1]!.expiredAt).toBeDefined();
    expect((await api.get(`${A}/deployments/${deployments[1]!.id}`)).body).toEqual(deployments[1]);
  });

  it("rolls a broken update back: the service keeps serving the old deployment and the operation says why", async () => {
    const good = await buildImage("rollback", LINEAR_DRIVER);
    const broken = await buildImage("rollback", FAILING_INIT_DRIVER);
    const { service, keys } = await createService("rollback", good.imageId);
    const update = await api.put(`${A}/services/${service.id}`, { imageId: broken.imageId, numReplicas: 2 });
    const op = await waitForOperation(api, update.headers.get("operation-location")!, 90_000);
    expect(op.state).toBe("Failed");
    expect(op.error.code).toBe("DeploymentFailed");
    expect(op.error.message).toContain("the model file is corrupt");
    const after = (await api.get(`${A}/services/${service.id}`)).body;
    expect(after).toMatchObject({ imageId: good.imageId, state: "Succeeded" });
    expect(after.error.code).toBe("DeploymentFailed");
    const res = await score(service.scoringUri, keys.primaryKey, { data: [[1, 1, 1]] });
    expect(await res.json()).toEqual([6]);
    const deployments = (await api.get<DeploymentView[]>(`${A}/deployments`, { serviceId: service.id })).body;
    expect(deployments[0]).toMatchObject({ imageId: broken.imageId, status: "Failed" });
    expect(deployments[1]).toMatchObject({ imageId: good.imageId, status: "Succeeded" });
    expect(deployments[1]!.expiredAt).toBeUndefined();
    // The replicas' output, with the traceback of the failed init(), went to the operation; the
    // live replicas' output is readable too.
    const logs = await api.request("GET", `${A}/services/${service.id}/logs`, { query: { tail: "50" } });
    expect(logs.status).toBe(200);
    expect(logs.text).toContain("driver ready");
  });

  it("bounds requests in flight per replica and answers the excess 503 with Retry-After", async () => {
    const { imageId } = await buildImage("bounded", SLOW_DRIVER);
    const { service, keys } = await createService("bounded", imageId, { numReplicas: 1, maxConcurrentRequestsPerContainer: 1 });
    const results = await Promise.all(Array.from({ length: 25 }, () => score(service.scoringUri, keys.primaryKey, { sleep: 0.3 })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(11);
    const rejected = results.filter((r) => r.status === 503);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected[0]!.headers.get("retry-after")).toBe("1");
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it("batches concurrent requests into run_batch() calls when the service asks for it, until an update turns it off", async () => {
    const { imageId } = await buildImage("batching", BATCH_DRIVER);
    const batching = { maxBatchSize: 8, maxWaitInMilliseconds: 20 };
    const { service, keys } = await createService("batching", imageId, { numReplicas: 1, maxConcurrentRequestsPerContainer: 16, batching });
    expect(service.batching).toEqual(batching);
    const batchSizes = async () => {
      const answers = await Promise.all(
        Array.from({ length: 16 }, async (_, n) => {
          const res = await score(service.scoringUri, keys.primaryKey, { n });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { n: number; batch: number };
          expect(body.n).toBe(n);
          return body.batch;
        }),
      );
      return answers;
    };
    const batched = await batchSizes();
    expect(Math.max(...batched)).toBeGreaterThan(1);
    expect(Math.max(...batched)).toBeLessThanOrEqual(8);

    const update = await api.put(`${A}/services/${service.id}`, { batching: { maxBatchSize: 1 } });
    expect(update.status, update.text).toBe(202);
    expect((await waitForOperation(api, update.headers.get("operation-location")!)).state).toBe("Succeeded");
    expect((await api.get(`${A}/services/${service.id}`)).body.batching).toEqual({ maxBatchSize: 1 });
    expect(new Set(await batchSizes())).toEqual(new Set([1]));
  });

  it("scales replicas up under load and back down after it", async () => {
    const { imageId } = await buildImage("scaling", SLOW_DRIVER);
    const { service, keys } = await createService("scaling", imageId, {
      maxConcurrentRequestsPerContainer: 1,
      autoScaler: { autoscaleEnabled: true, minReplicas: 1, maxReplicas: 3, refreshPeriodInSeconds: 1, targetUtilization: 50 },
    });
    const target = service.scoringUri.split("/service/")[1]!.split("/")[0]!;
    expect((await runtimeStatus(target)).replicas).toHaveLength(1);
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) await score(service.scoringUri, keys.primaryKey, { sleep: 0.2 }).then((r) => r.text());
    });
    let peak = 1;
    for (let i = 0; i < 60 && peak < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      peak = Math.max(peak, (await runtimeStatus(target)).replicas.length);
    }
    stop = true;
    await Promise.all(clients);
    expect(peak).toBe(3);
    let count = peak;
    for (let i = 0; i < 60 && count > 1; i++) {
      await new Promise((r) => setTimeout(r, 250));
      count = (await runtimeStatus(target)).replicas.length;
    }
    expect(count).toBe(1);
  });

  it("collects each scored request and answer into blob storage under the documented modeldata path", async () => {
    const { imageId, modelId } = await buildImage("collected", LINEAR_DRIVER);
    const { service, keys } = await createService("collected", imageId, { dataCollection: { storageEnabled: true } });
    expect(service.dataCollection).toEqual({ storageEnabled: true });
    await score(service.scoringUri, keys.primaryKey, { data: [[1, 2, 3]] });
    await score(service.scoringUri, keys.primaryKey, { data: [[0, 0, 1]] });
    const model = (await api.get(`${A}/models/${modelId}`)).body;
    const base = `00000000-0000-0000-0000-000000000000/local/default/collected/${model.id}-${model.name}-${model.version}`;
    // Requests and answers are two blobs, appended one after the other: wait for both.
    const requests = await waitForBlob(stack.ports.blobPort, "modeldata", `${base}/request/${today()}/data.csv`, '{""data"":[[0,0,1]]}');
    const responses = await waitForBlob(stack.ports.blobPort, "modeldata", `${base}/response/${today()}/data.csv`, '"[3]"');
    expect(requests).toContain('"{""data"":[[1,2,3]]}"');
    expect(responses).toContain('"[14]"');
  });

  it("deletes a service: replicas stop, the scoring URL answers 404, a second delete is 204", async () => {
    const { imageId } = await buildImage("deleted", LINEAR_DRIVER);
    const { service, keys } = await createService("deleted", imageId);
    expect((await score(service.scoringUri, keys.primaryKey, { data: [[1, 1, 1]] })).status).toBe(200);
    expect((await api.delete(`${A}/services/${service.id}`)).status).toBe(200);
    expect((await score(service.scoringUri, keys.primaryKey, { data: [[1, 1, 1]] })).status).toBe(404);
    expect((await api.get(`${A}/services/${service.id}`)).body.code).toBe("ServiceNotFound");
    expect((await api.delete(`${A}/services/${service.id}`)).status).toBe(204);
    // The name is free again.
    expect((await createService("deleted", imageId)).op.state).toBe("Succeeded");
  });

  it("brings every service back after a restart of the stack", async () => {
    const { imageId } = await buildImage("restarted", LINEAR_DRIVER);
    const { service, keys } = await createService("restarted", imageId, { numReplicas: 2 });
    await stack.stop();
    stack = await startLocalStack({ dataDir: stack.dataDir, ports: stack.ports, env: { PYTHON, OPERATION_STALL_SECONDS: "30" } });
    let res: Response | undefined;
    for (let i = 0; i < 100; i++) {
      res = await score(service.scoringUri, keys.primaryKey, { data: [[1, 1, 1]] });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(res?.status).toBe(200);
    expect(await res!.json()).toEqual([6]);
  });
});
