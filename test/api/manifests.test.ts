import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createAccount, manifestBody, modelBody, readAllPages, type ApiClient } from "../support/api-client.js";
import { sharedStack } from "../support/shared-stack.js";

let api: ApiClient;
let account: string;
let modelA: string;
let modelB: string;

beforeAll(async () => {
  ({ owner: api } = await sharedStack());
  account = await createAccount(api, `manifests-${randomUUID().slice(0, 8)}`);
  modelA = (await api.post(`${account}/models`, modelBody("a"))).body.id;
  modelB = (await api.post(`${account}/models`, modelBody("b"))).body.id;
});

describe("manifests", () => {
  it("creates a manifest over registered models and reads it back", async () => {
    const res = await api.post(
      `${account}/manifests`,
      manifestBody("scorer", [modelA, modelB], {
        description: "scores",
        targetRuntime: { runtimeType: "Python", properties: { pythonVersion: "3.11" } },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "scorer",
      version: 1,
      description: "scores",
      driverProgram: "score.py",
      modelIds: [modelA, modelB],
      modelType: "Registered",
      webserviceType: "Realtime",
      targetRuntime: { runtimeType: "Python", properties: { pythonVersion: "3.11" } },
    });
    expect(Date.parse(res.body.createdTime)).not.toBeNaN();
    const got = await api.get(`${account}/manifests/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    const again = await api.post(`${account}/manifests`, manifestBody("scorer", [modelA]));
    expect(again.body.version).toBe(2);
  });

  it("rejects a manifest naming every unregistered model id, and writes nothing", async () => {
    const before = await readAllPages(api, `${account}/manifests`, {});
    const ghost1 = randomUUID();
    const ghost2 = "not-a-model";
    const res = await api.post(`${account}/manifests`, manifestBody("ghosts", [modelA, ghost1, ghost2]));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("ModelNotRegistered");
    expect(res.body.message).toContain(ghost1);
    expect(res.body.message).toContain(ghost2);
    expect(res.body.message).not.toContain(modelA);
    expect(res.body.details.map((d: { message: string }) => d.message).join(" ")).toContain(ghost1);
    const after = await readAllPages(api, `${account}/manifests`, {});
    expect(after.items).toHaveLength(before.items.length);
  });

  it("rejects a model of another account as unregistered", async () => {
    const other = await createAccount(api, `manifests-other-${randomUUID().slice(0, 8)}`);
    const foreign = (await api.post(`${other}/models`, modelBody("foreign"))).body.id;
    const res = await api.post(`${account}/manifests`, manifestBody("foreign", [foreign]));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("ModelNotRegistered");
  });

  it("requires driverProgram to name one of the assets", async () => {
    const res = await api.post(`${account}/manifests`, manifestBody("nodriver", [modelA], { driverProgram: "main.py" }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("DriverProgramNotFound");
    expect(res.body.message).toContain("score.py");
  });

  it("lists every required field that is missing and every bad enum", async () => {
    const res = await api.post(`${account}/manifests`, { targetRuntime: { runtimeType: "Java" }, webserviceType: "Batch" });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("InvalidRequestBody");
    const messages: string[] = res.body.details.map((d: { message: string }) => d.message);
    for (const field of ["name", "driverProgram", "assets", "targetRuntime.runtimeType", "targetRuntime.properties", "webserviceType"]) {
      expect(
        messages.some((m) => m.startsWith(`${field}:`)),
        field,
      ).toBe(true);
    }
    expect(res.body.details.find((d: { message: string }) => d.message.startsWith("targetRuntime.runtimeType"))!.code).toBe(
      "InvalidEnumValue",
    );
  });

  it("answers 404 ManifestNotFound for an unknown id or a model's id", async () => {
    for (const id of [randomUUID(), modelA]) {
      const res = await api.get(`${account}/manifests/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("ManifestNotFound");
    }
  });

  it("lists with the modelId and manifestName filters across pages", async () => {
    const acct = await createAccount(api, `mlist-${randomUUID().slice(0, 8)}`);
    const m1 = (await api.post(`${acct}/models`, modelBody("m1"))).body.id;
    const m2 = (await api.post(`${acct}/models`, modelBody("m2"))).body.id;
    for (let i = 0; i < 9; i++) {
      const res = await api.post(`${acct}/manifests`, manifestBody(i < 6 ? "six" : "three", i % 3 === 0 ? [m1, m2] : [m2]));
      expect(res.status).toBe(200);
    }
    const byModel = await readAllPages(api, `${acct}/manifests`, { modelId: m1, count: "1" });
    expect(byModel.items).toHaveLength(3);
    expect(byModel.pages).toBe(3);
    expect(byModel.items.every((m) => m.modelIds.includes(m1))).toBe(true);
    const byName = await readAllPages(api, `${acct}/manifests`, { manifestName: "six", count: "2" });
    expect(byName.items).toHaveLength(6);
    expect(byName.pages).toBe(3);
    expect(byName.items.map((m) => m.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const all = await readAllPages(api, `${acct}/manifests`, { count: "4" });
    expect(all.items).toHaveLength(9);
    expect(all.pages).toBe(3);
    const both = await readAllPages(api, `${acct}/manifests`, { manifestName: "three", modelId: m1 });
    expect(both.items).toHaveLength(1);
  });
});
