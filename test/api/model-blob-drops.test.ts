import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { sharedStack } from "../support/shared-stack.js";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../devhost/azurite-account.js";
import { DEFAULT_ACCOUNT, waitForOperation, type ApiBody, type ApiClient } from "../support/api-client.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

const PREFIX = "00000000-0000-0000-0000-000000000000/local/default";

let api: ApiClient;
let blobs: BlobServiceClient;
let hostBaseUrl: string;
/** The key the stack's Event Grid webhook asks of every delivery (DATA_DIR/auth). */
let eventGridKey: string;

beforeAll(async () => {
  const stack = await sharedStack();
  api = stack.owner;
  hostBaseUrl = stack.apiBaseUrl.replace(/\/api$/, "");
  eventGridKey = readFileSync(join(stack.dataDir, "auth", "eventgrid-extension.key"), "utf8").trim();
  const endpoints = JSON.parse(readFileSync(join(stack.dataDir, "endpoints.json"), "utf8")) as { blob: string };
  blobs = new BlobServiceClient(endpoints.blob, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await blobs.getContainerClient("models").createIfNotExists();
});

async function drop(name: string, content: string, options: { contentType?: string; metadata?: Record<string, string> } = {}) {
  const blob = blobs.getContainerClient("models").getBlockBlobClient(name);
  const res = await blob.upload(content, Buffer.byteLength(content), {
    blobHTTPHeaders: { blobContentType: options.contentType ?? "application/octet-stream" },
    metadata: options.metadata,
  });
  return { url: blob.url, eTag: res.etag!.replace(/"/g, "") };
}

async function versionsOf(name: string): Promise<ApiBody[]> {
  const res = await api.get(`${DEFAULT_ACCOUNT}/models`, { name });
  expect(res.status, res.text).toBe(200);
  return res.body.value;
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function blobCreated(url: string, subject: string, eTag: string) {
  return [
    {
      id: randomUUID(),
      subject,
      eventType: "Microsoft.Storage.BlobCreated",
      eventTime: new Date().toISOString(),
      dataVersion: "",
      data: { api: "PutBlob", url, eTag, contentType: "application/json", contentLength: 1, blobType: "BlockBlob" },
    },
  ];
}

const webhook = (body: unknown, type = "Notification") =>
  fetch(`${hostBaseUrl}/runtime/webhooks/eventgrid?functionName=modelBlobCreated&code=${eventGridKey}`, {
    method: "POST",
    headers: { "aeg-event-type": type, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("models from blob drops (Event Grid hook; Azurite watched by the local host)", () => {
  it("registers a blob dropped at models/<sub>/<rg>/<account>/<name>/<file> as a new version, once", async () => {
    const name = `dropped-${randomUUID().slice(0, 6)}`;
    const { url } = await drop(`${PREFIX}/${name}/model.json`, LINEAR_MODEL, {
      contentType: "application/json",
      metadata: { description: "from a drop", tags: "nightly, sklearn" },
    });
    const versions = await eventually(
      () => versionsOf(name),
      (v) => v.length > 0,
    );
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      name,
      version: 1,
      mimeType: "application/json",
      description: "from a drop",
      tags: ["nightly", "sklearn"],
      url,
    });
    // Later polls of the container deliver nothing new.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await versionsOf(name)).toHaveLength(1);

    // New content (a new ETag) is a new version.
    await drop(`${PREFIX}/${name}/model.json`, JSON.stringify({ weights: [3, 2, 1] }), { contentType: "application/json" });
    const two = await eventually(
      () => versionsOf(name),
      (v) => v.length > 1,
    );
    expect(two.map((m) => m.version)).toEqual([2, 1]);
  });

  it("makes no second version when the same event (same blob ETag) is delivered again, even concurrently", async () => {
    const name = `redelivered-${randomUUID().slice(0, 6)}`;
    const blob = `${PREFIX}/${name}/w.json`;
    const { url, eTag } = await drop(blob, LINEAR_MODEL);
    const event = blobCreated(url, `/blobServices/default/containers/models/blobs/${blob}`, eTag);
    const answers = await Promise.all([webhook(event), webhook(event), webhook(event)]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await versionsOf(name)).toHaveLength(1);
  });

  it("ignores blobs outside the layout or of unknown accounts, and answers the validation handshake", async () => {
    const stray = `stray-${randomUUID().slice(0, 6)}`;
    await drop(`${stray}.json`, "{}");
    await drop(`00000000-0000-0000-0000-000000000000/local/no-such-account/${stray}/m.json`, "{}");
    await drop(`${PREFIX}/${stray}/too/deep.json`, "{}");
    await new Promise((r) => setTimeout(r, 2500));
    expect(await versionsOf(stray)).toHaveLength(0);

    const handshake = await webhook(
      [
        {
          id: randomUUID(),
          eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
          subject: "",
          data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" },
        },
      ],
      "SubscriptionValidation",
    );
    expect(handshake.status).toBe(200);
    expect(await handshake.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  });

  it("builds images from dropped models by their plain URL, reading only the account's own blobs", async () => {
    const name = `buildable-${randomUUID().slice(0, 6)}`;
    await drop(`${PREFIX}/${name}/model.json`, LINEAR_MODEL);
    const model = (
      await eventually(
        () => versionsOf(name),
        (v) => v.length > 0,
      )
    )[0]!;
    const driver = await drop(`${PREFIX}/${name}-driver/score.py`, LINEAR_DRIVER, { contentType: "text/x-python" });
    const build = async (modelIds: string[], assetUrl: string) => {
      const manifest = await api.post(`${DEFAULT_ACCOUNT}/manifests`, {
        name,
        driverProgram: "score.py",
        assets: [{ id: "score.py", url: assetUrl }],
        modelIds,
        targetRuntime: { runtimeType: "Python", properties: {} },
      });
      expect(manifest.status, manifest.text).toBe(200);
      const image = await api.post(`${DEFAULT_ACCOUNT}/images`, {
        name,
        imageType: "Docker",
        computeResourceId: "local",
        manifestId: manifest.body.id,
      });
      expect(image.status, image.text).toBe(202);
      return waitForOperation(api, image.headers.get("operation-location")!);
    };
    expect((await build([model.id], driver.url)).state).toBe("Succeeded");

    // Another account's prefix in the same storage is refused, though the blob exists.
    const foreign = await drop(`00000000-0000-0000-0000-000000000000/local/other/${name}/score.py`, LINEAR_DRIVER);
    const refused = await build([model.id], foreign.url);
    expect(refused.state).toBe("Failed");
    expect(refused.error).toMatchObject({ code: "UrlRefused" });
    expect(refused.error.message).toContain("only models/00000000-0000-0000-0000-000000000000/local/default/");
  });
});
