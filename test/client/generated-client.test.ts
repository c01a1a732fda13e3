import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import createClient from "openapi-fetch";
import type { OpenAPI3 } from "openapi-typescript";
import { ENDPOINTS } from "../../functions/api-catalog.js";
import { openApiDocument } from "../../shared/openapi/openapi-document.js";
import { sharedStack } from "../support/shared-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";
import type { paths } from "./api-types.js";

/**
 * A client generated from the OpenAPI document by a well-kept generator (openapi-typescript's
 * types, openapi-fetch's calls) runs the whole workflow. The types are generated into
 * api-types.ts, which the test suite type-checks every call against; the first test fails when
 * the document changed and they were not generated again (`UPDATE_CLIENT=1 npx vitest run test/client`).
 */
const TYPES = join(import.meta.dirname, "api-types.ts");
const HEADER = "// Generated from GET /api/openapi.json by openapi-typescript: UPDATE_CLIENT=1 npx vitest run test/client\n\n";

let client: ReturnType<typeof createClient<paths>>;
let blobs: TestBlobs;
let token: string;
const account = { subscriptionId: "00000000-0000-0000-0000-000000000000", resourceGroupName: "local", accountName: "default" };
const query = { "api-version": "2017-09-01-preview" } as const;

beforeAll(async () => {
  const stack = await sharedStack();
  token = await stack.token();
  client = createClient<paths>({ baseUrl: stack.apiBaseUrl, headers: { authorization: `Bearer ${token}` } });
  const endpoints = JSON.parse(readFileSync(join(stack.dataDir, "endpoints.json"), "utf8")) as { blob: string };
  blobs = new TestBlobs(Number(new URL(endpoints.blob).port));
});

/** Polls an operation through the generated client until it ends. */
async function ended(operationLocation: string) {
  const id = new URL(operationLocation).pathname.split("/").pop()!;
  for (let i = 0; i < 600; i++) {
    const { data } = await client.GET(
      "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/operations/{id}",
      {
        params: { path: { ...account, id }, query },
      },
    );
    if (data && ["Succeeded", "Failed", "Cancelled"].includes(data.state)) return data;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`operation ${id} did not end`);
}

describe("a client generated from the OpenAPI document", () => {
  it("has its types generated from the document as it is", async () => {
    const document = openApiDocument(ENDPOINTS, "http://127.0.0.1:7071/api") as unknown as OpenAPI3;
    const generated = `${HEADER}${astToString(await openapiTS(document))}`;
    if (process.env.UPDATE_CLIENT === "1") writeFileSync(TYPES, generated);
    expect(readFileSync(TYPES, "utf8"), "the document changed: UPDATE_CLIENT=1 npx vitest run test/client").toBe(generated);
  });

  it("registers a model, creates a manifest, builds an image, deploys a service and scores", async () => {
    const base = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}" as const;
    const model = await client.POST(`${base}/models`, {
      params: { path: account, query },
      body: { name: "generated-client", mimeType: "application/json", url: await blobs.put("generated/model.json", LINEAR_MODEL) },
    });
    expect(model.response.status).toBe(200);
    const manifest = await client.POST(`${base}/manifests`, {
      params: { path: account, query },
      body: {
        name: "generated-client",
        driverProgram: "score.py",
        assets: [{ id: "score.py", url: await blobs.put("generated/score.py", LINEAR_DRIVER) }],
        modelIds: [model.data!.id],
        targetRuntime: { runtimeType: "Python", properties: {} },
      },
    });
    expect(manifest.response.status).toBe(200);
    const image = await client.POST(`${base}/images`, {
      params: { path: account, query },
      body: { name: "generated-client", imageType: "Docker", computeResourceId: "local", manifestId: manifest.data!.id },
    });
    expect(image.response.status).toBe(202);
    const built = await ended(image.response.headers.get("operation-location")!);
    expect(built.state).toBe("Succeeded");
    const imageId = new URL(built.resourceLocation).pathname.split("/").pop()!;
    const service = await client.POST(`${base}/services`, {
      params: { path: account, query },
      body: { name: "generated-client", imageId, computeResource: { id: "local", type: "Cluster" }, numReplicas: 1 },
    });
    expect(service.response.status, JSON.stringify(service.error)).toBe(202);
    const deployed = await ended(service.response.headers.get("operation-location")!);
    expect(deployed.state, JSON.stringify(deployed.error)).toBe("Succeeded");
    const serviceId = new URL(deployed.resourceLocation).pathname.split("/").pop()!;
    const shown = await client.GET(`${base}/services/{id}`, { params: { path: { ...account, id: serviceId }, query } });
    const keys = await client.GET(`${base}/services/{id}/keys`, { params: { path: { ...account, id: serviceId }, query } });
    const scored = await fetch(shown.data!.scoringUri, {
      method: "POST",
      headers: { authorization: `Bearer ${keys.data!.primaryKey}`, "content-type": "application/json" },
      body: JSON.stringify({ data: [[1, 2, 3]] }),
    });
    expect(scored.status).toBe(200);
    expect(await scored.json()).toEqual(expect.anything());
    const gone = await client.DELETE(`${base}/services/{id}`, { params: { path: { ...account, id: serviceId }, query } });
    expect(gone.response.status).toBe(200);
  });
});
