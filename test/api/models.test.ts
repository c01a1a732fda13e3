import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createAccount, modelBody, readAllPages, type ApiClient } from "../support/api-client.js";
import { sharedStack } from "../support/shared-stack.js";

let api: ApiClient;
let account: string;

beforeAll(async () => {
  ({ owner: api } = await sharedStack());
  account = await createAccount(api, `models-${randomUUID().slice(0, 8)}`);
});

describe("models", () => {
  it("registers a model with id, version 1 and createdAt, and reads it back", async () => {
    const res = await api.post(`${account}/models`, modelBody("iris", { description: "irises", tags: ["flowers", "v1"], unpack: false }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "iris",
      version: 1,
      description: "irises",
      tags: ["flowers", "v1"],
      mimeType: "application/octet-stream",
      unpack: false,
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();
    const got = await api.get(`${account}/models/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("gives a new id and the next version when a name is registered again", async () => {
    const a = await api.post(`${account}/models`, modelBody("again"));
    const b = await api.post(`${account}/models`, modelBody("again"));
    expect([a.body.version, b.body.version]).toEqual([1, 2]);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it("ignores read-only fields sent by the client", async () => {
    const res = await api.post(`${account}/models`, modelBody("readonly", { id: "mine", version: 42, createdAt: "2001-01-01T00:00:00Z" }));
    expect(res.status).toBe(200);
    expect(res.body.id).not.toBe("mine");
    expect(res.body.version).toBe(1);
    expect(res.body.createdAt).not.toBe("2001-01-01T00:00:00Z");
  });

  it("gives versions 1..50 to 50 parallel registrations of one name", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => api.post(`${account}/models`, modelBody("contended"))));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const versions = results.map((r) => r.body.version as number).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(50);
    const listed = await readAllPages(api, `${account}/models`, { name: "contended", count: "7" });
    expect(listed.items.map((m) => m.version).sort((x, y) => x - y)).toEqual(versions);
  });

  it("answers 404 ModelNotFound for an unknown id and for an id that is not a model", async () => {
    const unknown = await api.get(`${account}/models/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "ModelNotFound", statusCode: 404 });
    const weird = await api.get(`${account}/models/not%20an%20id`);
    expect(weird.status).toBe(404);
    expect(weird.body.code).toBe("ModelNotFound");
  });

  it("does not show a model of one account through another the caller also owns", async () => {
    const other = await createAccount(api, `models-other-${randomUUID().slice(0, 8)}`);
    const model = await api.post(`${account}/models`, modelBody("private"));
    const res = await api.get(`${other}/models/${model.body.id}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("ModelNotFound");
    const list = await api.get(`${other}/models`);
    expect(list.body.value).toEqual([]);
  });
});

describe("model lists", () => {
  let listAccount: string;
  beforeAll(async () => {
    listAccount = await createAccount(api, `list-${randomUUID().slice(0, 8)}`);
    for (let i = 0; i < 12; i++) {
      const res = await api.post(`${listAccount}/models`, modelBody(i % 2 ? "odd" : "even", { tags: [`mod3-${i % 3}`, "all"] }));
      expect(res.status).toBe(200);
    }
  });

  it("lists every model of the account across pages, newest first, with absolute nextLinks", async () => {
    const { items, pages, links } = await readAllPages(api, `${listAccount}/models`, { count: "5" });
    expect(items).toHaveLength(12);
    expect(pages).toBe(3);
    expect(new Set(items.map((m) => m.id)).size).toBe(12);
    for (const link of links) {
      const url = new URL(link);
      expect(url.origin).toBe(new URL(api.baseUrl).origin);
      expect(url.searchParams.get("api-version")).toBe("2017-09-01-preview");
      expect(url.searchParams.get("count")).toBe("5");
    }
    const times = items.map((m) => Date.parse(m.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by name across 3 pages, the nextLink keeping the filter", async () => {
    const { items, pages, links } = await readAllPages(api, `${listAccount}/models`, { name: "even", count: "2" });
    expect(items).toHaveLength(6);
    expect(pages).toBe(3);
    expect(items.every((m) => m.name === "even")).toBe(true);
    expect(links.every((l) => new URL(l).searchParams.get("name") === "even")).toBe(true);
  });

  it("filters by tag across 3 pages", async () => {
    const { items, pages } = await readAllPages(api, `${listAccount}/models`, { tag: "mod3-1", count: "1" });
    expect(items).toHaveLength(4);
    expect(pages).toBe(4);
    expect(items.every((m) => m.tags.includes("mod3-1"))).toBe(true);
  });

  it("filters by name and tag together", async () => {
    const { items } = await readAllPages(api, `${listAccount}/models`, { name: "odd", tag: "mod3-0" });
    expect(items.map((m) => m.name)).toEqual(["odd", "odd"]);
  });

  it("answers 400 InvalidSkipToken for a tampered token or one from another filter, and 400 for a bad count", async () => {
    const first = await api.get(`${listAccount}/models`, { count: "2" });
    const token = new URL(first.body.nextLink).searchParams.get("$skipToken")!;
    const tampered = token.slice(0, 5) + (token[5] === "A" ? "B" : "A") + token.slice(6);
    for (const bad of [tampered, token + "x", "garbage", token.split(".")[0]!]) {
      const res = await api.get(`${listAccount}/models`, { count: "2", $skipToken: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe("InvalidSkipToken");
    }
    const otherFilter = await api.get(`${listAccount}/models`, { count: "2", name: "odd", $skipToken: token });
    expect(otherFilter.status).toBe(400);
    expect(otherFilter.body.code).toBe("InvalidSkipToken");
    for (const count of ["0", "-1", "abc", "1001", "1.5"]) {
      const res = await api.get(`${listAccount}/models`, { count });
      expect(res.status, count).toBe(400);
      expect(res.body.code).toBe("InvalidQueryParameter");
    }
  });
});
