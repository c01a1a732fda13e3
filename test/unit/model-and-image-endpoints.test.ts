import { describe, expect, it } from "vitest";
import { HttpRequest, InvocationContext, type HttpHandler, type HttpResponseInit } from "@azure/functions";
import { makeGetModel, makeListModels, makeRegisterModel, type ModelEndpointDeps } from "../../functions/http/models.js";
import { makeCreateImage, type ImageEndpointDeps } from "../../functions/http/images.js";
import type { Role } from "../../shared/auth/roles.js";
import type { ImageDocument, ManifestDocument, ModelDocument, OperationDocument, StoredDocument } from "../../shared/store/documents.js";
import type { StoredAccount } from "../../shared/store/account-repository.js";
import type { Page } from "../../shared/store/pagination.js";
import { API_VERSION } from "../../shared/schemas/api-version.js";

/**
 * The HTTP handlers of models and images, called as the Functions host calls them, over
 * in-memory stores: what the handlers do themselves (roles, validation, versions, the image and
 * its operation written together, the build enqueued), apart from Cosmos, which the integration
 * suites run.
 */

const ROUTE = { subscriptionId: "s1", resourceGroupName: "rg", accountName: "acct" };
const PK = "subscriptions/s1/resourceGroups/rg/accounts/acct";
const BASE = `http://127.0.0.1:7071/api/${PK}`;
/** Where the account's resources are stored: its path and incarnation. */
const DATA_PK = `${PK}/incarnations/inc-1`;

function accountWith(role: Role | undefined): StoredAccount {
  return {
    id: "account",
    pk: PK,
    kind: "account",
    name: "acct",
    subscriptionId: "s1",
    resourceGroupName: "rg",
    location: "local",
    createdAt: "2030-01-01T00:00:00.000Z",
    createdBy: "owner",
    state: "Ready",
    incarnation: "inc-1",
    roleAssignments: role ? [{ principalId: "caller", role, createdAt: "2030-01-01T00:00:00.000Z" }] : [],
    memberIds: role ? ["caller"] : [],
    _etag: "e",
  };
}

/** Documents of one kind in memory, with versions per name as the Cosmos repositories number them. */
class MemoryVersioned<T extends StoredDocument & { name: string; version: number }> {
  readonly docs: T[] = [];
  readonly #versions = new Map<string, number>();
  async create(name: string, build: (version: number) => T, also: (doc: T) => void = () => undefined): Promise<T> {
    const version = (this.#versions.get(name) ?? 0) + 1;
    this.#versions.set(name, version);
    const doc = build(version);
    this.docs.push(doc);
    also(doc);
    return doc;
  }
  async get(_pk: string, id: string): Promise<T | undefined> {
    return this.docs.find((d) => d.id === id);
  }
  async list(_pk: string, filters: Record<string, string | undefined>, pageSize: number): Promise<Page<T>> {
    const items = this.docs.filter((d) =>
      Object.entries(filters).every(([k, v]) => v === undefined || (d as Record<string, unknown>)[k] === v),
    );
    return { items: items.reverse().slice(0, pageSize), nextSkipToken: undefined };
  }
}

function depsFor(role: Role | undefined) {
  const models = new MemoryVersioned<ModelDocument>();
  const images = new MemoryVersioned<ImageDocument>();
  const operations: OperationDocument[] = [];
  const enqueued: OperationDocument[] = [];
  const manifest: ManifestDocument = {
    id: "manifest-1",
    pk: PK,
    kind: "manifest",
    name: "iris",
    version: 1,
    driverProgram: "score.py",
    assets: [],
    modelIds: [],
    modelType: "Registered",
    targetRuntime: { runtimeType: "Python", properties: {} },
    webserviceType: "Realtime",
    createdTime: "2030-01-01T00:00:00.000Z",
  };
  const common = { authenticate: async () => ({ id: "caller", name: undefined }), accounts: { get: async () => accountWith(role) } };
  const modelDeps: ModelEndpointDeps = {
    ...common,
    models: {
      register: (_pk, build, name) => models.create(name, build),
      get: (pk, id) => models.get(pk, id),
      list: (pk, f, n) => models.list(pk, f, n),
    },
  };
  const imageDeps: ImageEndpointDeps = {
    ...common,
    config: { computeTargets: ["local"] },
    manifests: { get: async (_pk, id) => (id === manifest.id ? manifest : undefined) },
    images: {
      create: (_pk, name, _manifestId, build, operation) => images.create(name, build, () => operations.push(operation)),
      get: (pk, id) => images.get(pk, id),
      list: (pk, f, n) => images.list(pk, f, n),
    },
    operations: { enqueue: async (op) => void enqueued.push(op) },
  };
  return { modelDeps, imageDeps, models, images, operations, enqueued };
}

async function call(handler: HttpHandler, method: string, path: string, body?: unknown, params: Record<string, string> = {}) {
  const request = new HttpRequest({
    method,
    url: `${BASE}${path}?api-version=${API_VERSION}`,
    headers: { authorization: "Bearer token", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    params: { ...ROUTE, ...params },
    ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }),
  });
  // The handlers answer with HttpResponseInit objects (what the host serialises).
  const res = (await handler(request, new InvocationContext())) as HttpResponseInit;
  return {
    status: res.status ?? 200,
    headers: new Headers(res.headers as Record<string, string>),
    body: res.jsonBody as Record<string, unknown> | undefined,
  };
}

const model = { name: "iris", mimeType: "application/octet-stream", url: "https://models.example.com/iris.pkl", tags: ["a"] };

describe("model endpoints over an in-memory store", () => {
  it("registers versions 1, 2 of a name with their own ids, and reads them back", async () => {
    const { modelDeps } = depsFor("Contributor");
    const register = makeRegisterModel(async () => modelDeps);
    const first = await call(register, "POST", "/models", model);
    const second = await call(register, "POST", "/models", { ...model, description: "retrained" });
    expect(first).toMatchObject({ status: 200, body: { name: "iris", version: 1, tags: ["a"] } });
    expect(second).toMatchObject({ status: 200, body: { name: "iris", version: 2, description: "retrained" } });
    expect(first.body!.id).not.toBe(second.body!.id);
    const got = await call(
      makeGetModel(async () => modelDeps),
      "GET",
      `/models/${String(first.body!.id)}`,
      undefined,
      { id: String(first.body!.id) },
    );
    expect(got.body).toEqual(first.body);
    const listed = await call(
      makeListModels(async () => modelDeps),
      "GET",
      "/models",
    );
    expect((listed.body!.value as { version: number }[]).map((m) => m.version)).toEqual([2, 1]);
  });

  it("refuses a bad body with every bad field, a Reader with 403 and a stranger with 404, storing nothing", async () => {
    for (const [role, status, code] of [
      ["Contributor", 400, "InvalidRequestBody"],
      ["Reader", 403, "AuthorizationFailed"],
      [undefined, 404, "AccountNotFound"],
    ] as const) {
      const { modelDeps, models } = depsFor(role);
      const body = role === "Contributor" ? { name: "", url: "ftp://x" } : model;
      const res = await call(
        makeRegisterModel(async () => modelDeps),
        "POST",
        "/models",
        body,
      );
      expect(res.status, String(role)).toBe(status);
      expect(res.body!.code).toBe(code);
      expect(models.docs).toEqual([]);
    }
    const { modelDeps } = depsFor("Contributor");
    const invalid = await call(
      makeRegisterModel(async () => modelDeps),
      "POST",
      "/models",
      { name: "", url: "ftp://x" },
    );
    expect((invalid.body!.details as { message: string }[]).map((d) => d.message.split(":")[0])).toEqual(["name", "mimeType", "url"]);
  });
});

/** An image request for the manifest the image deps hold. */
const IMAGE = { name: "iris", imageType: "Docker", computeResourceId: "local", manifestId: "manifest-1" };

describe("image creation over an in-memory store", () => {
  it("writes the image (NotStarted, next version) with its operation, enqueues the build and answers 202 with Operation-Location", async () => {
    const { imageDeps, images, operations, enqueued } = depsFor("Contributor");
    const create = makeCreateImage(async () => imageDeps);
    const res = await call(create, "POST", "/images", IMAGE);
    expect(res.status).toBe(202);
    const [image] = images.docs;
    const [operation] = operations;
    expect(image).toMatchObject({
      name: "iris",
      version: 1,
      creationState: "NotStarted",
      manifestName: "iris",
      operationId: operation!.id,
    });
    expect(operation).toMatchObject({ operationType: "Image", state: "NotStarted", resourceId: image!.id, attempts: 0 });
    // Stored in the incarnation's partition; named in URLs by the account's path.
    expect([image!.pk, operation!.pk]).toEqual([DATA_PK, DATA_PK]);
    expect(operation!.resourcePath).toBe(`/api/${PK}/images/${image!.id}`);
    expect(enqueued).toEqual([operation]);
    expect(res.headers.get("operation-location")).toBe(`${BASE}/operations/${operation!.id}?api-version=${API_VERSION}`);
    const again = await call(create, "POST", "/images", IMAGE);
    expect(again.status).toBe(202);
    expect(images.docs.map((i) => i.version)).toEqual([1, 2]);
  });

  it("refuses an unknown manifest or compute resource, writing and enqueueing nothing", async () => {
    const { imageDeps, images, enqueued } = depsFor("Contributor");
    const create = makeCreateImage(async () => imageDeps);
    const noManifest = await call(create, "POST", "/images", {
      ...IMAGE,
      manifestId: "nope",
    });
    expect(noManifest).toMatchObject({ status: 400, body: { code: "ManifestNotFound" } });
    const noTarget = await call(create, "POST", "/images", {
      ...IMAGE,
      computeResourceId: "/subscriptions/x/aks/y",
    });
    expect(noTarget).toMatchObject({ status: 400, body: { code: "UnknownComputeResource" } });
    expect(images.docs).toEqual([]);
    expect(enqueued).toEqual([]);
  });
});
