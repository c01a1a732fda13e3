import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createAccount, modelBody, readAllPages, type ApiClient } from "../support/api-client.js";
import { sharedStack } from "../support/shared-stack.js";

let api: ApiClient;
let account: string;

async function countModels(): Promise<number> {
  return (await readAllPages(api, `${account}/models`, { count: "1000" })).items.length;
}

beforeAll(async () => {
  ({ owner: api } = await sharedStack());
  account = await createAccount(api, `errors-${randomUUID().slice(0, 8)}`);
});

describe("api-version", () => {
  it("accepts 2017-09-01-preview and answers 400 UnsupportedApiVersion naming it otherwise", async () => {
    expect((await api.request("GET", `${account}/models`, { apiVersion: "2017-09-01-preview" })).status).toBe(200);
    for (const version of [null, "", "2018-01-01", "2017-09-01"]) {
      const res = await api.request("GET", `${account}/models`, { apiVersion: version });
      expect(res.status, String(version)).toBe(400);
      expect(res.body.code).toBe("UnsupportedApiVersion");
      expect(res.body.message).toContain("2017-09-01-preview");
    }
  });
});

describe("request bodies", () => {
  it("answers 400 InvalidRequestBody to malformed JSON and to bodies that are not objects, writing nothing", async () => {
    const before = await countModels();
    for (const raw of ["{", "not json", "[]", "null", "42", '"name"', ""]) {
      const res = await api.request("POST", `${account}/models`, { rawBody: raw, headers: { "content-type": "application/json" } });
      expect(res.status, raw).toBe(400);
      expect(res.body.code, raw).toBe("InvalidRequestBody");
    }
    expect(await countModels()).toBe(before);
  });

  it("lists every missing field and every wrong type in details", async () => {
    const missing = await api.post(`${account}/models`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual(
      expect.arrayContaining([
        { code: "MissingField", message: "name: is required" },
        { code: "MissingField", message: "mimeType: is required" },
        { code: "MissingField", message: "url: is required" },
      ]),
    );
    const wrong = await api.post(`${account}/models`, { name: 5, mimeType: "x", url: "ftp://x/y", tags: "a", unpack: "yes" });
    expect(wrong.status).toBe(400);
    const byField = Object.fromEntries(wrong.body.details.map((d: { code: string; message: string }) => [d.message.split(":")[0], d.code]));
    expect(byField).toMatchObject({
      name: "InvalidFieldType",
      url: "InvalidFieldValue",
      tags: "InvalidFieldType",
      unpack: "InvalidFieldType",
    });
  });

  it("answers 413 to a body over 1 MB, writing nothing", async () => {
    const before = await countModels();
    const res = await api.post(`${account}/models`, modelBody("big", { description: "x".repeat(1024 * 1024 + 1) }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: "RequestBodyTooLarge", statusCode: 413 });
    expect(await countModels()).toBe(before);
  });

  it("answers 415 to a body that is not JSON by its content type", async () => {
    const res = await api.request("POST", `${account}/models`, {
      rawBody: JSON.stringify(modelBody("x")),
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe("UnsupportedMediaType");
  });
});

describe("routing", () => {
  it("answers 404 to a known route with another method (as the Functions host does), and to unknown paths, with an ErrorResponse", async () => {
    const res = await api.request("PATCH", `${account}/models`, { body: {} });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("RouteNotFound");
    const unknown = await api.get(`${account}/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "RouteNotFound", statusCode: 404 });
  });

  it("answers every error with an ErrorResponse carrying its status", async () => {
    const res = await api.get(`${account}/manifests/${randomUUID()}`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(["code", "message", "statusCode"]);
    expect(res.body.statusCode).toBe(res.status);
  });
});
