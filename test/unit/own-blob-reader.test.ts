import { describe, expect, it } from "vitest";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { OwnBlobReader } from "../../shared/image-building/own-blob-reader.js";

// No request is made: every URL below is refused before any storage call.
const blobs = new BlobServiceClient(
  "http://127.0.0.1:10000/devstoreaccount1",
  new StorageSharedKeyCredential("devstoreaccount1", Buffer.from("k").toString("base64")),
);
const reader = new OwnBlobReader(blobs);
const account = "subscriptions/s1/resourceGroups/rg/accounts/a";
const base = "http://127.0.0.1:10000/devstoreaccount1";

describe("reading the service's own storage", () => {
  it("claims only plain URLs of its own account's blob endpoint", () => {
    expect(reader.owns(`${base}/models/s1/rg/a/m/model.pkl`)).toBe(true);
    expect(reader.owns(`${base}/models/s1/rg/a/m/model.pkl?sv=2020&sig=x`)).toBe(false);
    expect(reader.owns("http://127.0.0.1:10000/otheraccount/models/s1/rg/a/m/model.pkl")).toBe(false);
    expect(reader.owns("https://models.example.com/s1/rg/a/m/model.pkl")).toBe(false);
    expect(reader.owns("not a url")).toBe(false);
  });

  it("refuses other containers, other accounts' prefixes and names that climb out of the prefix", async () => {
    for (const path of [
      "build-logs/img.log",
      "models/s1/rg/other/m/model.pkl",
      "uploads/s1/rg/a/../other/x",
      "uploads/s1/rg/a/%2E%2E/other/x",
      "models/s1/rg/a//m",
    ]) {
      await expect(reader.open(`${base}/${path}`, "model m v1", account, "2026-01-01T00:00:00Z")).rejects.toMatchObject({
        code: "UrlRefused",
      });
    }
  });
});
