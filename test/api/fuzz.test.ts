import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { createAccount, manifestBody, modelBody, type ApiClient, type ApiResponse } from "../support/api-client.js";
import { resourcesContainer, sharedStack } from "../support/shared-stack.js";
import { dataPartitionAt } from "../../shared/store/account-repository.js";

let api: ApiClient;
let account: string;
let modelId: string;
let countDocuments: () => Promise<number>;

beforeAll(async () => {
  const stack = await sharedStack();
  api = stack.owner;
  account = await createAccount(api, `fuzz-${randomUUID().slice(0, 8)}`);
  modelId = (await api.post(`${account}/models`, modelBody("seed"))).body.id;
  const container = resourcesContainer(stack.cosmosEndpoint);
  const partition = await dataPartitionAt(container, account);
  countDocuments = async () => {
    const { resources } = await container.items
      .query<number>(
        { query: "SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk", parameters: [{ name: "@pk", value: partition }] },
        { partitionKey: partition },
      )
      .fetchAll();
    return resources[0] ?? 0;
  };
});

const RUNS = 40;

/** JSON values that look a little like the API's bodies: objects with its field names and random values. */
const fieldNames = [
  "name",
  "mimeType",
  "url",
  "tags",
  "unpack",
  "description",
  "driverProgram",
  "assets",
  "modelIds",
  "targetRuntime",
  "runtimeType",
  "properties",
  "role",
  "location",
  "webserviceType",
  "modelType",
  "id",
  "version",
  "imageType",
  "computeResourceId",
  "manifestId",
  "imageId",
  "computeResource",
  "numReplicas",
  "autoScaler",
  "autoscaleEnabled",
  "keyType",
  "maxConcurrentRequestsPerContainer",
];
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom("https://x.example.com/a", "Python", "Docker", "Owner", "score.py", "local", "Primary", modelIdPlaceholder()),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...fieldNames), tie("value"), { maxKeys: 6 }),
  ),
})).value;
function modelIdPlaceholder(): string {
  return "__MODEL_ID__";
}
const body = fc.oneof(
  jsonish,
  fc.string().map((s) => ({ __raw: s })),
);
const query = fc.dictionary(
  fc.constantFrom("count", "$skipToken", "name", "tag", "modelId", "manifestName", "api-version", "x"),
  fc.string({ maxLength: 30 }),
  { maxKeys: 4 },
);
/**
 * Ids as path segments. "." and ".." are left out: every URL parser (the client's and the
 * host's) folds them, even percent-encoded, so they address another resource, not an odd id.
 */
const notDots = (s: string) => s !== "." && s !== "..";
const pathId = fc.oneof(fc.string({ minLength: 1, maxLength: 80 }).filter(notDots), fc.uuid(), fc.constant("..%2F.."));
const segment = (id: string) => encodeURIComponent(id);

function send(method: string, path: string, b: unknown, q: Record<string, string>): Promise<ApiResponse> {
  const json = JSON.stringify(b)?.replaceAll("__MODEL_ID__", modelId);
  const raw = b && typeof b === "object" && "__raw" in (b as object) ? String((b as { __raw: string }).__raw) : json;
  const apiVersion = "api-version" in q ? q["api-version"]! : "2017-09-01-preview";
  const { ["api-version"]: _, ...rest } = q;
  void _;
  return api.request(method, path, {
    rawBody: method === "GET" || method === "DELETE" ? undefined : (raw ?? ""),
    query: rest,
    apiVersion,
    headers: { "content-type": "application/json" },
  });
}

function expectClientErrorOrSuccess(res: ApiResponse, label: string): void {
  expect(res.status, `${label} → ${res.status} ${res.text}`).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.body, label).toMatchObject({ code: expect.any(String), message: expect.any(String), statusCode: res.status });
  }
}

describe("fuzzing every endpoint", () => {
  const writes: [string, (account: string, id: string) => string][] = [
    ["POST", (a) => `${a}/models`],
    ["POST", (a) => `${a}/manifests`],
    ["PUT", (a) => a],
    ["PUT", (a, id) => `${a}/roleAssignments/${segment(id)}`],
    ["POST", (a) => `${a}/images`],
    ["POST", (a) => `${a}/services`],
    ["PUT", (a, id) => `${a}/services/${segment(id)}`],
    ["POST", (a, id) => `${a}/services/${segment(id)}/keys`],
  ];
  const reads: [string, (account: string, id: string) => string][] = [
    ["GET", (a) => `${a}/models`],
    ["GET", (a, id) => `${a}/models/${segment(id)}`],
    ["GET", (a) => `${a}/manifests`],
    ["GET", (a, id) => `${a}/manifests/${segment(id)}`],
    ["GET", (a) => a],
    ["GET", (a) => `${a}/roleAssignments`],
    ["DELETE", (a, id) => `${a}/roleAssignments/${segment(id)}`],
    ["GET", () => `subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/fuzz/accounts`],
    ["GET", (a) => `${a}/images`],
    ["GET", (a, id) => `${a}/images/${segment(id)}`],
    ["GET", (a, id) => `${a}/operations/${segment(id)}`],
    ["GET", (a) => `${a}/services`],
    ["GET", (a, id) => `${a}/services/${segment(id)}`],
    ["GET", (a, id) => `${a}/services/${segment(id)}/keys`],
    ["DELETE", (a, id) => `${a}/services/${segment(id)}`],
    ["GET", (a) => `${a}/deployments`],
    ["GET", (a, id) => `${a}/deployments/${segment(id)}`],
  ];

  for (const [method, path] of writes) {
    it(`${method} ${path("{account}", "{id}")}: random bodies and queries get 4xx ErrorResponses that write nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(body, query, pathId, async (b, q, id) => {
          const before = await countDocuments();
          const res = await send(method, path(account, id), b, q);
          expectClientErrorOrSuccess(res, `${method} ${JSON.stringify(b)} ${JSON.stringify(q)}`);
          if (res.status >= 400) expect(await countDocuments()).toBe(before);
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const [method, path] of reads) {
    it(`${method} ${path("{account}", "{id}")}: random ids and queries never get a 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(query, pathId, async (q, id) => {
          const before = await countDocuments();
          const res = await send(method, path(account, id), undefined, q);
          expectClientErrorOrSuccess(res, `${method} ${id} ${JSON.stringify(q)}`);
          expect(await countDocuments()).toBe(before);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it("random account paths get 4xx and create nothing", async () => {
    const segmentValue = fc.oneof(fc.string({ minLength: 1, maxLength: 70 }).filter(notDots), fc.stringMatching(/^[a-z0-9]{1,8}$/));
    await fc.assert(
      fc.asyncProperty(
        segmentValue,
        segmentValue,
        segmentValue,
        fc.constantFrom("GET", "PUT", "DELETE", "POST"),
        body,
        async (s, rg, a, method, b) => {
          const path = `subscriptions/${segment(s)}/resourceGroups/${segment(rg)}/accounts/${segment(a)}${method === "POST" ? "/models" : ""}`;
          const res = await send(method, path, b, {});
          expectClientErrorOrSuccess(res, `${method} ${path}`);
          if (res.status >= 400 && method === "PUT") expect((await api.get(path)).status).not.toBe(200);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("still serves valid requests afterwards", async () => {
    expect((await api.post(`${account}/manifests`, manifestBody("after", [modelId]))).status).toBe(200);
  });
});
