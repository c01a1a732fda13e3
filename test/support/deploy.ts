import { expect } from "vitest";
import { randomUUID } from "node:crypto";
import { type ApiClient, waitForOperation } from "./api-client.js";
import type { TestBlobs } from "./blobs.js";
import { LINEAR_MODEL } from "../fixtures/drivers.js";

/**
 * Deploys drivers on a local stack as a user would: the files as blobs with read SAS URLs, a
 * model, a manifest, an image built on `local`, a service. Each step must succeed.
 */
export class Deployer {
  constructor(
    private readonly api: ApiClient,
    private readonly blobs: TestBlobs,
    private readonly account: string,
  ) {}

  /** Registers a model, a manifest (`score.py` plus any further assets) and builds an image; returns their ids. */
  async buildImage(
    name: string,
    driver: string,
    model: { file: string; content: string | Buffer } = { file: "model.json", content: LINEAR_MODEL },
    assets: Record<string, string> = {},
  ) {
    const { api, blobs, account } = this;
    const put = (file: string, content: string | Buffer) => blobs.put(`${name}/${randomUUID().slice(0, 6)}/${file}`, content);
    const modelRes = await api.post(`${account}/models`, {
      name: `${name}-model`,
      mimeType: "application/octet-stream",
      url: await put(model.file, model.content),
    });
    expect(modelRes.status, modelRes.text).toBe(200);
    const extra = await Promise.all(Object.entries(assets).map(async ([id, content]) => ({ id, url: await put(id, content) })));
    const manifest = await api.post(`${account}/manifests`, {
      name,
      driverProgram: "score.py",
      assets: [{ id: "score.py", url: await put("score.py", driver) }, ...extra],
      modelIds: [modelRes.body.id],
      targetRuntime: { runtimeType: "Python", properties: {} },
    });
    expect(manifest.status, manifest.text).toBe(200);
    const image = await api.post(`${account}/images`, {
      name,
      imageType: "Docker",
      computeResourceId: "local",
      manifestId: manifest.body.id,
    });
    expect(image.status, image.text).toBe(202);
    const op = await waitForOperation(api, image.headers.get("operation-location")!);
    expect(op.state, JSON.stringify(op.error)).toBe("Succeeded");
    return {
      modelId: modelRes.body.id as string,
      manifestId: manifest.body.id as string,
      imageId: op.resourceLocation.split("/images/")[1]!.split("?")[0]!,
    };
  }

  /** Creates a service on `local` from an image and waits for its operation; its view and keys. */
  async createService(name: string, imageId: string, extra: Record<string, unknown> = {}) {
    const { api, account } = this;
    const res = await api.post(`${account}/services`, { name, imageId, computeResource: { id: "local", type: "Cluster" }, ...extra });
    expect(res.status, res.text).toBe(202);
    const op = await waitForOperation(api, res.headers.get("operation-location")!, 90_000);
    const service = (await api.request("GET", op.resourceLocation, { apiVersion: null })).body;
    const keys = (await api.get(`${account}/services/${service.id}/keys`)).body;
    return { op, service, keys };
  }

  /** A driver built and deployed in one go, Succeeded; its scoring URI and primary key. */
  async deploy(name: string, driver: string, extra: Record<string, unknown> = {}) {
    const { imageId } = await this.buildImage(name, driver);
    const { op, service, keys } = await this.createService(name, imageId, extra);
    expect(op.state, JSON.stringify(op.error)).toBe("Succeeded");
    return { service, scoringUri: service.scoringUri as string, key: keys.primaryKey as string };
  }
}

/** POSTs JSON to a scoring URI, with a service key when given. */
export function score(uri: string, key: string | undefined, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(uri, {
    method: "POST",
    ...init,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
}
