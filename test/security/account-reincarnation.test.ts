import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { sharedStack } from "../support/shared-stack.js";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../devhost/azurite-account.js";
import { ApiClient, createAccount, modelBody, waitForOperation } from "../support/api-client.js";
import { LINEAR_DRIVER } from "../fixtures/drivers.js";

/**
 * An account name is not its data: an account deleted while writes are in flight and created
 * again, by someone else, starts empty, and the old owner's blobs are gone or refused.
 */
let stack: Awaited<ReturnType<typeof sharedStack>>;
let blobs: BlobServiceClient;

beforeAll(async () => {
  stack = await sharedStack();
  const endpoints = JSON.parse(readFileSync(join(stack.dataDir, "endpoints.json"), "utf8")) as { blob: string };
  blobs = new BlobServiceClient(endpoints.blob, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  for (const c of ["models", "uploads"]) await blobs.getContainerClient(c).createIfNotExists();
});

const RG = "reincarnation";
const pathOf = (name: string) => `subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${RG}/accounts/${name}`;
const prefixOf = (name: string) => `00000000-0000-0000-0000-000000000000/${RG}/${name}`;

async function put(container: string, name: string, content: string): Promise<string> {
  const blob = blobs.getContainerClient(container).getBlockBlobClient(name);
  await blob.upload(content, Buffer.byteLength(content));
  return blob.url;
}

/** Registers a model at `url` with a driver and builds its image; the build's operation. */
async function build(api: ApiClient, account: string, url: string) {
  const model = await api.post(`${account}/models`, { name: "m", mimeType: "application/json", url });
  expect(model.status, model.text).toBe(200);
  const driver = await put("uploads", `${prefixOf(account.split("/").pop()!)}/${randomUUID()}/score.py`, LINEAR_DRIVER);
  const manifest = await api.post(`${account}/manifests`, {
    name: "m",
    driverProgram: "score.py",
    assets: [{ id: "score.py", url: driver }],
    modelIds: [model.body.id],
    targetRuntime: { runtimeType: "Python", properties: {} },
  });
  expect(manifest.status, manifest.text).toBe(200);
  const image = await api.post(`${account}/images`, {
    name: "m",
    imageType: "Docker",
    computeResourceId: "local",
    manifestId: manifest.body.id,
  });
  expect(image.status, image.text).toBe(202);
  return waitForOperation(api, image.headers.get("operation-location")!);
}

describe("deleting an account and creating its name again", () => {
  it("gives the new account an empty store, whatever was in flight during the delete; races answer 404 or 409, never 500", async () => {
    const name = `reborn-${randomUUID().slice(0, 6)}`;
    const account = pathOf(name);
    const owners = [stack.owner, new ApiClient(stack.apiBaseUrl, await stack.token(`other-${randomUUID()}`))];
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const [old, next] = [owners[round % 2]!, owners[(round + 1) % 2]!];
      expect(await createAccount(old, name, RG)).toBe(account);
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const res = await old.post(`${account}/models`, modelBody(`w${w % 2}`));
          statuses.push(res.status);
        }
      };
      const writers = Array.from({ length: 6 }, (_, w) => writer(w));
      await new Promise((r) => setTimeout(r, 300));
      const deleted = await old.delete(account);
      expect(deleted.status, deleted.text).toBe(200);
      // Someone else takes the name at once, while the old owner's writes still arrive.
      const created = await next.put(account, { location: "local" });
      statuses.push(created.status);
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(writers);
      if (created.status !== 201) continue; // the name was not free yet (409): nothing to look at
      const models = await next.get(`${account}/models`, { count: "1000" });
      expect(models.status).toBe(200);
      expect(models.body.value, `round ${round}: the new account shows old models`).toEqual([]);
      expect((await next.get(`${account}/manifests`)).body.value).toEqual([]);
      expect((await next.get(`${account}/images`)).body.value).toEqual([]);
      // Next round, this round's new owner is the one who deletes while writing.
      expect((await next.delete(account)).status).toBe(200);
    }
    const unexpected = statuses.filter((s) => ![200, 201, 404, 409].includes(s));
    expect(unexpected, `statuses seen: ${[...new Set(statuses)].join(", ")}`).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(10);
  }, 120_000);

  it("deletes the old owner's blobs, and does not build one the old owner left before the name was taken again", async () => {
    const name = `blobs-${randomUUID().slice(0, 6)}`;
    const account = await createAccount(stack.owner, name, RG);
    const oldBlobs = [
      ["models", `${prefixOf(name)}/old/model.json`],
      ["uploads", `${prefixOf(name)}/old/model.json`],
    ] as const;
    for (const [container, blob] of oldBlobs) await put(container, blob, '{"weights": [9, 9, 9]}');
    expect((await stack.owner.delete(account)).status).toBe(200);
    for (const [container, blob] of oldBlobs)
      expect(await blobs.getContainerClient(container).getBlobClient(blob).exists(), blob).toBe(false);

    // A blob written into the prefix while the name was free (an old SAS, say), then the name taken by someone else.
    const stale = await put("uploads", `${prefixOf(name)}/stale/model.json`, '{"weights": [9, 9, 9]}');
    await new Promise((r) => setTimeout(r, 1100)); // blob times have whole seconds
    const newOwner = new ApiClient(stack.apiBaseUrl, await stack.token(`new-owner-${randomUUID()}`));
    expect(await createAccount(newOwner, name, RG)).toBe(account);
    const refused = await build(newOwner, account, stale);
    expect(refused.state).toBe("Failed");
    expect(refused.error).toMatchObject({ code: "UrlRefused" });
    expect(refused.error.message).toMatch(/written before this account was created/);
    // Written again by the new owner, it is theirs.
    await put("uploads", `${prefixOf(name)}/stale/model.json`, '{"weights": [1, 2, 3]}');
    const built = await build(newOwner, account, stale);
    expect(built.state, JSON.stringify(built.error)).toBe("Succeeded");
  }, 120_000);
});
