import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import {
  ApiClient,
  DEFAULT_ACCOUNT,
  createAccount,
  manifestBody,
  readAllPages,
  tokensFor,
  waitForOperation,
} from "../support/api-client.js";
import { resourcesContainer } from "../support/shared-stack.js";
import { dataPartitionAt } from "../../shared/store/account-repository.js";
import { contextDirOf, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { startRegistry, type LocalRegistry } from "../support/registry.js";
import { TestBlobs } from "../support/blobs.js";
import { requireTool } from "../support/tools.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

let registry: LocalRegistry;
let stack: LocalStack;
let api: ApiClient;
let blobs: TestBlobs;
let uploads: TestBlobs;
const A = DEFAULT_ACCOUNT;
/** The default account's prefix in the service's own containers. */
const PREFIX = "00000000-0000-0000-0000-000000000000/local/default";

/** The stack's settings: its registry. */
const stackEnv = () => ({ IMAGE_REGISTRY: registry.host, IMAGE_REGISTRY_PLAIN_HTTP: "true" });

/**
 * With a sweeper that takes purges up again (and late-write passes) within seconds: for the
 * account test only, as its heartbeats would lapse on a busy machine and builds and rollouts be
 * taken up twice.
 */
const quickSweeps = () => ({ ...stackEnv(), OPERATION_STALL_SECONDS: "3", LATE_WRITES_SECONDS: "8" });

beforeAll(async () => {
  requireTool("skopeo", "skopeo");
  requireTool("umoci", "umoci");
  registry = await startRegistry();
  stack = await startLocalStack({ env: stackEnv() });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  blobs = new TestBlobs(stack.ports.blobPort);
  uploads = new TestBlobs(stack.ports.blobPort, "uploads");
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
});

/** A model uploaded as `mm` does: a blob under the account's prefix of `uploads`, registered by its plain URL. */
async function uploadedModel(name: string, account = A, prefix = PREFIX): Promise<{ id: string; blob: string; url: string }> {
  const blob = `${prefix}/${randomUUID()}/model.json`;
  const url = (await uploads.put(blob, LINEAR_MODEL)).split("?")[0]!;
  const res = await api.post(`${account}/models`, { name, mimeType: "application/json", url });
  expect(res.status, res.text).toBe(200);
  return { id: res.body.id, blob, url };
}

async function manifestOf(name: string, modelIds: string[], account = A): Promise<string> {
  const res = await api.post(`${account}/manifests`, {
    ...manifestBody(name, modelIds),
    assets: [{ id: "score.py", mimeType: "text/x-python", url: await blobs.put(`${name}/${randomUUID()}/score.py`, LINEAR_DRIVER) }],
  });
  expect(res.status, res.text).toBe(200);
  return res.body.id;
}

async function builtImage(manifestId: string, name: string, account = A) {
  const res = await api.post(`${account}/images`, { name, imageType: "Docker", computeResourceId: "local", manifestId });
  expect(res.status, res.text).toBe(202);
  const operation = await waitForOperation(api, res.headers.get("operation-location")!);
  expect(operation.state, JSON.stringify(operation)).toBe("Succeeded");
  return (await api.request("GET", operation.resourceLocation, { apiVersion: null })).body;
}

const layoutDir = () => join(stack.dataDir, "images", "oci");

function layoutRefs(): Map<string, string> {
  const index = JSON.parse(readFileSync(join(layoutDir(), "index.json"), "utf8")) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  return new Map(index.manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"]!, m.digest]));
}

/** Every blob some image of the layout uses, and every blob the layout holds. */
function layoutBlobs(): { used: Set<string>; held: Set<string> } {
  const blobsDir = join(layoutDir(), "blobs", "sha256");
  const used = new Set<string>();
  for (const digest of layoutRefs().values()) {
    const hex = digest.slice("sha256:".length);
    used.add(hex);
    const manifest = JSON.parse(readFileSync(join(blobsDir, hex), "utf8")) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config, ...manifest.layers]) used.add(d.digest.slice("sha256:".length));
  }
  return { used, held: new Set(readdirSync(blobsDir).filter((n) => !n.startsWith("."))) };
}

function skopeoInspect(location: string) {
  return spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${location}`], { encoding: "utf8" });
}

describe("deleting models, manifests and images", () => {
  it("answers 200 then 204, and never gives a deleted version number again", async () => {
    const name = `del-${randomUUID().slice(0, 8)}`;
    const first = await uploadedModel(name);
    const second = await uploadedModel(name);
    expect((await api.delete(`${A}/models/${second.id}`)).status).toBe(200);
    expect((await api.get(`${A}/models/${second.id}`)).body.code).toBe("ModelNotFound");
    const again = await api.delete(`${A}/models/${second.id}`);
    expect(again.status).toBe(204);
    expect(again.text).toBe("");
    const third = await uploadedModel(name);
    expect((await api.get(`${A}/models/${third.id}`)).body.version).toBe(3);
    expect((await api.get(`${A}/models/${first.id}`)).body.version).toBe(1);
    // Deleting what does not exist changes nothing either.
    expect((await api.delete(`${A}/manifests/${randomUUID()}`)).status).toBe(204);
    expect((await api.delete(`${A}/images/${randomUUID()}`)).status).toBe(204);
  });

  it("refuses what is still used (409 ResourceInUse naming the user), then deletes image, manifest and model with their storage", async () => {
    const model = await uploadedModel(`life-${randomUUID().slice(0, 8)}`);
    const manifestId = await manifestOf(`life-${randomUUID().slice(0, 8)}`, [model.id]);
    const image = await builtImage(manifestId, `life-${randomUUID().slice(0, 8)}`);
    const twin = await builtImage(manifestId, `twin-${randomUUID().slice(0, 8)}`);
    const digestOf = (location: string) => (JSON.parse(skopeoInspect(location).stdout) as { Digest: string }).Digest;
    // Same inputs, same image: the two are one manifest in the registry under two tags.
    expect(digestOf(twin.imageLocation)).toBe(digestOf(image.imageLocation));

    const modelInUse = await api.delete(`${A}/models/${model.id}`);
    expect(modelInUse.status).toBe(409);
    expect(modelInUse.body.code).toBe("ResourceInUse");
    expect(modelInUse.body.message).toContain(manifestId);
    const manifestInUse = await api.delete(`${A}/manifests/${manifestId}`);
    expect(manifestInUse.status).toBe(409);
    expect(manifestInUse.body.details.map((d: { message: string }) => d.message).join(" ")).toContain(image.id);

    // A service (and its rollout) keeps its image.
    const service = await api.post(`${A}/services`, {
      name: `life-${randomUUID().slice(0, 8)}`,
      imageId: image.id,
      computeResource: { id: "local", type: "Cluster" },
      numReplicas: 1,
    });
    expect(service.status, service.text).toBe(202);
    const imageInUse = await api.delete(`${A}/images/${image.id}`);
    expect(imageInUse.status).toBe(409);
    expect(imageInUse.body.code).toBe("ResourceInUse");
    const rollout = await waitForOperation(api, service.headers.get("operation-location")!);
    const serviceId = rollout.resourceLocation.split("/services/")[1]!.split("?")[0]!;
    expect((await api.delete(`${A}/images/${image.id}`)).body.message).toContain(serviceId);
    expect((await api.delete(`${A}/services/${serviceId}`)).status).toBe(200);
    // The runtime's unpacked copy of the image went with the last service that ran it.
    expect(readdirSync(join(stack.dataDir, "runtime", "images")).filter((n) => n.startsWith("sha256-"))).toEqual([]);

    // Nothing uses the image now: it goes, with its registry manifest, layout entry, log and context.
    const before = layoutBlobs();
    const deleted = await api.delete(`${A}/images/${image.id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await api.get(`${A}/images/${image.id}`)).status).toBe(404);
    expect([...layoutRefs().keys()].some((ref) => ref.endsWith(`/${image.name}:1`))).toBe(false);
    expect((await fetch(image.imageBuildLogUri)).status).toBe(404);
    expect(contextDirOf(stack.dataDir, image.id)).toBeUndefined();
    // The registry deletes manifests, not tags: it keeps the one the twin still names, and every layer stays.
    expect(skopeoInspect(twin.imageLocation).status).toBe(0);
    const after = layoutBlobs();
    for (const blob of before.used) if (after.used.has(blob)) expect(after.held.has(blob)).toBe(true);

    // The twin goes too: now the registry has no such image, and the layout holds only what images use.
    expect((await api.delete(`${A}/images/${twin.id}`)).status).toBe(200);
    expect(skopeoInspect(twin.imageLocation).status).not.toBe(0);
    expect(skopeoInspect(image.imageLocation).status).not.toBe(0);
    const left = layoutBlobs();
    expect([...left.held].filter((b) => !left.used.has(b))).toEqual([]);

    expect((await api.delete(`${A}/manifests/${manifestId}`)).status).toBe(200);
    expect((await api.delete(`${A}/models/${model.id}`)).status).toBe(200);
    expect(await uploads.exists(model.blob)).toBe(false);
  });

  it("deletes a manifest's files uploaded to the service's storage, unless another manifest names them", async () => {
    const put = async (file: string, content: string) => {
      const blob = `${PREFIX}/${randomUUID()}/${file}`;
      return { blob, url: (await uploads.put(blob, content)).split("?")[0]! };
    };
    const driver = await put("score.py", LINEAR_DRIVER);
    const conda = await put("conda_dependencies.yml", "dependencies:\n  - python=3.11\n");
    const create = async (name: string, properties: Record<string, string>) => {
      const res = await api.post(`${A}/manifests`, {
        ...manifestBody(name, []),
        assets: [{ id: "score.py", url: driver.url }],
        targetRuntime: { runtimeType: "Python", properties },
      });
      expect(res.status, res.text).toBe(200);
      return res.body.id as string;
    };
    const first = await create(`files-${randomUUID().slice(0, 8)}`, { condaEnvFile: conda.url });
    const second = await create(`files-${randomUUID().slice(0, 8)}`, {});
    expect((await api.delete(`${A}/manifests/${first}`)).status).toBe(200);
    expect(await uploads.exists(conda.blob)).toBe(false);
    expect(await uploads.exists(driver.blob)).toBe(true);
    expect((await api.delete(`${A}/manifests/${second}`)).status).toBe(200);
    expect(await uploads.exists(driver.blob)).toBe(false);
  });

  it("keeps an uploaded blob that another model was registered from", async () => {
    const first = await uploadedModel(`shared-${randomUUID().slice(0, 8)}`);
    const res = await api.post(`${A}/models`, { name: `shared-${randomUUID().slice(0, 8)}`, mimeType: "application/json", url: first.url });
    expect(res.status, res.text).toBe(200);
    expect((await api.delete(`${A}/models/${first.id}`)).status).toBe(200);
    expect(await uploads.exists(first.blob)).toBe(true);
    expect((await api.delete(`${A}/models/${res.body.id}`)).status).toBe(200);
    expect(await uploads.exists(first.blob)).toBe(false);
  });

  it("never leaves a manifest whose model was deleted while it was created, and never answers 500 in the race", async () => {
    for (let round = 0; round < 12; round++) {
      const model = await uploadedModel(`race-${randomUUID().slice(0, 8)}`);
      const assetUrl = await blobs.put(`race/${randomUUID()}/score.py`, LINEAR_DRIVER);
      const [created, deleted] = await Promise.all([
        api.post(`${A}/manifests`, { ...manifestBody(`race-${round}`, [model.id]), assets: [{ id: "score.py", url: assetUrl }] }),
        api.delete(`${A}/models/${model.id}`),
      ]);
      expect([created.status, deleted.status].sort(), `${created.text} ${deleted.text}`).toEqual(
        created.status === 200 ? [200, 409] : [200, 400],
      );
      if (created.status === 200) expect((await api.get(`${A}/models/${model.id}`)).status).toBe(200);
      else expect(created.body.code).toBe("ModelNotRegistered");
    }
  });

  it("pages stay exact while items are deleted: nothing skipped, nothing repeated", async () => {
    const name = `paging-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push((await uploadedModel(name)).id);
    const newestFirst = [...ids].reverse();
    const first = await api.get(`${A}/models`, { name, count: "3" });
    expect(first.body.value.map((m: { id: string }) => m.id)).toEqual(newestFirst.slice(0, 3));
    // Delete what page 1 showed, and the item the next page starts at.
    for (const id of [...newestFirst.slice(0, 3), newestFirst[3]!]) expect((await api.delete(`${A}/models/${id}`)).status).toBe(200);
    const rest = await readAllPages(api, first.body.nextLink, {});
    expect(rest.items.map((m) => m.id)).toEqual(newestFirst.slice(4));
  });

  it("lets Readers delete nothing", async () => {
    const model = await uploadedModel(`reader-${randomUUID().slice(0, 8)}`);
    const reader = api.as(await (await tokensFor(stack.dataDir))("lifecycle-reader"));
    expect((await api.put(`${A}/roleAssignments/lifecycle-reader`, { role: "Reader" })).status).toBeLessThan(300);
    const refused = await reader.delete(`${A}/models/${model.id}`);
    expect(refused.status).toBe(403);
    expect((await api.get(`${A}/models/${model.id}`)).status).toBe(200);
  });
});

describe("deleting an account", () => {
  it("deletes everything it holds as one operation; one cut short by a crash resumes and finishes, and late writes are swept", async () => {
    const name = `gone-${randomUUID().slice(0, 8)}`;
    const account = await createAccount(api, name);
    const prefix = `00000000-0000-0000-0000-000000000000/tests/${name}`;
    const model = await uploadedModel("m", account, prefix);
    const image = await builtImage(await manifestOf("mf", [model.id], account), "web", account);
    expect(skopeoInspect(image.imageLocation).status).toBe(0);
    const container = resourcesContainer(`http://127.0.0.1:${stack.ports.cosmosPort}`);
    const partition = await dataPartitionAt(container, account);

    // The registry is down: the purge cannot finish, but the account is gone for every caller.
    await registry.stop();
    const deleted = await api.delete(account);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await api.get(account)).status).toBe(404);
    const early = await api.put(account, { location: "local" });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe("AccountBeingDeleted");

    // kill -9 of the whole stack, then everything comes back: the sweeper finishes the purge.
    // (Azurite saves its metadata every 5 s, and a kill -9 loses what it has not saved yet: a
    // limit of Azurite's, not what this test is about, so the kill waits for its save.)
    await new Promise((r) => setTimeout(r, 5500));
    await stack.kill9();
    registry = await startRegistry(registry);
    stack = await startLocalStack({ dataDir: stack.dataDir, ports: stack.ports, env: quickSweeps() });
    let again = await api.put(account, { location: "local" });
    for (let i = 0; i < 120 && again.status === 409; i++) {
      await new Promise((r) => setTimeout(r, 500));
      again = await api.put(account, { location: "local" });
    }
    expect(again.status, again.text).toBe(201);
    expect(skopeoInspect(image.imageLocation).status).not.toBe(0);
    expect([...layoutRefs().keys()].filter((ref) => ref.startsWith(`${name}-`))).toEqual([]);
    expect(contextDirOf(stack.dataDir, image.id)).toBeUndefined();
    expect((await fetch(image.imageBuildLogUri)).status).toBe(404);
    expect(await uploads.exists(model.blob)).toBe(false);
    expect((await api.get(`${account}/models`)).body.value).toEqual([]);

    // A write that was in flight at the delete lands in the deleted partition later: swept by the
    // pass the purge scheduled for when such writes have ended.
    const { resources: latePasses } = await container.items
      .query<{ state: string; notBefore: string }>(
        {
          query:
            "SELECT c.state, c.notBefore FROM c WHERE c.pk = @pk AND c.kind = 'operation' AND c.purge.lateWrites.partition = @partition",
          parameters: [
            { name: "@pk", value: account },
            { name: "@partition", value: partition },
          ],
        },
        { partitionKey: account },
      )
      .fetchAll();
    expect(latePasses).toHaveLength(1);
    expect(latePasses[0]!.state).toBe("NotStarted");
    const late = {
      id: randomUUID(),
      pk: partition,
      kind: "model",
      name: "late",
      version: 1,
      url: "https://example.com/m",
      mimeType: "x/y",
    };
    await container.items.create(late);
    const { resources: oldDocs } = await container.items
      .query(
        { query: "SELECT c.id, c.kind FROM c WHERE c.pk = @pk", parameters: [{ name: "@pk", value: partition }] },
        { partitionKey: partition },
      )
      .fetchAll();
    expect(oldDocs).toEqual([{ id: late.id, kind: "model" }]);
    let left = 1;
    for (let i = 0; i < 80 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const { resources } = await container.items
        .query<number>(
          { query: "SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk", parameters: [{ name: "@pk", value: partition }] },
          { partitionKey: partition },
        )
        .fetchAll();
      left = resources[0] ?? 0;
    }
    expect(left).toBe(0);
  }, 120_000);
});
