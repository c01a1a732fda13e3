import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { AzuriteBlobEvents } from "../../devhost/functions-host/azurite-blob-events.js";
import { startAzuriteBlob, type AzuriteService } from "../support/azurite.js";

/**
 * The local host's Event Grid for Azurite, against a real Azurite and a stand-in webhook that
 * records what it is sent: announced as Azure announces BlobCreated, and only that.
 */
let azurite: AzuriteService;
let webhook: Server;
let hookUrl: string;
let container: ContainerClient;
let blobs: BlobServiceClient;
const received: { subject: string; eTag: string }[] = [];

beforeAll(async () => {
  azurite = await startAzuriteBlob();
  blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  container = blobs.getContainerClient("models");
  await container.createIfNotExists();
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      for (const e of JSON.parse(body) as { subject: string; data: { eTag: string } }[])
        received.push({ subject: e.subject, eTag: e.data.eTag });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  const address = webhook.address();
  hookUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await azurite?.stop();
  webhook?.close();
});

function watcher(stateFile: string): AzuriteBlobEvents {
  return new AzuriteBlobEvents({
    blobs,
    subscriptions: [{ container: "models", functionName: "modelBlobCreated" }],
    hostBaseUrl: hookUrl,
    eventGridKey: "key",
    stateFile,
    pollMs: 100,
    log: () => undefined,
  });
}

const put = async (name: string, content: string, metadata?: Record<string, string>) =>
  (await container.getBlockBlobClient(name).upload(content, content.length, { metadata })).etag!.replace(/"/g, "");
const subjects = () => received.map((e) => e.subject.split("/blobs/")[1]);
const settle = () => new Promise((r) => setTimeout(r, 600));

describe("the local Event Grid for Azurite", () => {
  it("starts from now without a state file, announces new blobs and new bytes, and not a metadata or header change", async () => {
    await put("before/model.bin", "there before the watcher");
    await new Promise((r) => setTimeout(r, 2100)); // Last-Modified has whole seconds
    const stateFile = join(mkdtempSync(join(tmpdir(), "mm-events-")), "blob-events.json");
    const events = watcher(stateFile);
    events.start();
    try {
      await settle();
      expect(subjects()).toEqual([]);

      const first = await put("a/model.bin", "first bytes", { tags: "one" });
      await settle();
      expect(received).toEqual([{ subject: "/blobServices/default/containers/models/blobs/a/model.bin", eTag: first }]);

      // Metadata and headers only: a new ETag, no event.
      await container.getBlockBlobClient("a/model.bin").setMetadata({ tags: "two" });
      await container.getBlockBlobClient("a/model.bin").setHTTPHeaders({ blobContentType: "application/x-pickle" });
      await settle();
      expect(received).toHaveLength(1);

      // New bytes under the same name: announced.
      const second = await put("a/model.bin", "second, other bytes", { tags: "two" });
      await settle();
      expect(received.map((e) => e.eTag)).toEqual([first, second]);
    } finally {
      await events.stop();
    }

    // A restart with the state file: nothing again, and the blob from before stays unannounced.
    const again = watcher(stateFile);
    again.start();
    await settle();
    await again.stop();
    expect(subjects()).toEqual(["a/model.bin", "a/model.bin"]);
  });
});
