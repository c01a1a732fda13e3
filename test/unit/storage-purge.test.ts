import { describe, expect, it } from "vitest";
import { Operations } from "../../shared/operations/operations.js";
import { storagePurgeKind } from "../../shared/operations/storage-purge.js";
import type { OperationMessage } from "../../shared/schemas/operations.js";
import type { BuiltImage, ImageBuilder } from "../../shared/image-building/image-builder.js";
import type { AccountBlob } from "../../shared/image-building/own-blob-reader.js";
import { MemoryOperationStore } from "../support/memory-operation-store.js";

const ACCOUNT = "subscriptions/s/resourceGroups/g/accounts/team";
const PK = `${ACCOUNT}/incarnations/i1`;

/** A purge kind over recorded effects: blobs and logs deleted, images removed; the first `failures` blob deletes fail. */
function setUp(failures: number, otherModelsWithUrl = 0) {
  const store = new MemoryOperationStore();
  const sent: OperationMessage[] = [];
  const deletedBlobs: AccountBlob[] = [];
  const deletedLogs: string[] = [];
  const removed: BuiltImage[] = [];
  let failing = failures;
  const builder: ImageBuilder = {
    build: () => Promise.reject(new Error("not used")),
    remove: async (image) => (removed.push(image), []),
    removeAll: () => Promise.reject(new Error("not used")),
  };
  const operations = new Operations({
    store,
    kinds: [
      storagePurgeKind({
        accounts: { get: async () => undefined, deleteAll: async () => undefined, deletePartition: async () => undefined },
        images: { idsIn: async () => [] },
        builders: () => [builder],
        schedule: async () => undefined,
        lateWritesMs: 60_000,
        models: { countWithUrl: async () => otherModelsWithUrl },
        manifests: { countUsingUrl: async () => 0 },
        locateBlob: (url, accountPath) =>
          url.startsWith("http://store/uploads/") && accountPath === ACCOUNT
            ? { container: "uploads", blobName: url.slice("http://store/uploads/".length) }
            : undefined,
        blobs: {
          deleteBlob: async (blob) => {
            if (failing-- > 0) throw new Error("storage is down");
            deletedBlobs.push(blob);
          },
          deleteAll: () => Promise.reject(new Error("not used")),
        },
        logs: { delete: async (_partition, id) => void deletedLogs.push(id), deleteAll: () => Promise.reject(new Error("not used")) },
        builderFor: (target) => (target === "local" ? builder : undefined),
        queue: { send: async (m) => void sent.push(m) },
      }),
    ],
    heartbeatMs: 60_000,
    stallMs: 1000,
    deadlineMs: 3_600_000,
  });
  return { store, operations, sent, deletedBlobs, deletedLogs, removed };
}

const warn = () => undefined;

describe("the storage purge of a deleted resource", () => {
  it("deletes a deleted model's own blob; one that fails (a crash, storage down) is taken up by the sweeper and finished", async () => {
    const { store, operations, sent, deletedBlobs } = setUp(1);
    const op = Operations.create(
      "Purge",
      PK,
      { id: "m1", path: "/api/x/models/m1" },
      { purge: { model: { id: "m1", url: "http://store/uploads/team/u1/model.pkl" } } },
    );
    store.put(op);
    const message = { operationId: op.id, accountPath: PK };
    await expect(operations.execute("Purge", message, warn)).rejects.toThrow("storage is down");
    expect(deletedBlobs).toEqual([]);
    expect((await store.get(PK, op.id))?.state).toBe("Running");

    // The sweeper finds it stalled and sends it to the purge queue; the worker finishes it.
    expect(await operations.sweep(Date.now() + 5000)).toEqual({ requeued: 1, failed: 0 });
    expect(sent).toEqual([message]);
    await operations.execute("Purge", sent[0]!, warn);
    expect(deletedBlobs).toEqual([{ container: "uploads", blobName: "team/u1/model.pkl" }]);
    expect((await store.get(PK, op.id))?.state).toBe("Succeeded");
    // A redelivered message does nothing more.
    await operations.execute("Purge", message, warn);
    expect(deletedBlobs).toHaveLength(1);
  });

  it("keeps a blob other models were registered from, and anything that is not the account's own", async () => {
    const shared = setUp(0, 1);
    const op = Operations.create(
      "Purge",
      PK,
      { id: "m1", path: "/p" },
      { purge: { model: { id: "m1", url: "http://store/uploads/team/u1/model.pkl" } } },
    );
    shared.store.put(op);
    await shared.operations.execute("Purge", { operationId: op.id, accountPath: PK }, warn);
    expect(shared.deletedBlobs).toEqual([]);

    const foreign = setUp(0);
    const other = Operations.create(
      "Purge",
      PK,
      { id: "m2", path: "/p" },
      { purge: { model: { id: "m2", url: "https://example.com/model.pkl" } } },
    );
    foreign.store.put(other);
    await foreign.operations.execute("Purge", { operationId: other.id, accountPath: PK }, warn);
    expect(foreign.deletedBlobs).toEqual([]);
    expect((await foreign.store.get(PK, other.id))?.state).toBe("Succeeded");
  });

  it("removes a deleted image with the builder that built it, and its build log", async () => {
    const { store, operations, removed, deletedLogs } = setUp(0);
    const op = Operations.create(
      "Purge",
      PK,
      { id: "i1", path: "/p" },
      { purge: { image: { id: "i1", name: "web", version: 3, computeResourceId: "local", digest: "sha256:abc" } } },
    );
    store.put(op);
    await operations.execute("Purge", { operationId: op.id, accountPath: PK }, warn);
    expect(removed).toEqual([
      { imageId: "i1", imageName: "web", version: 3, accountPath: ACCOUNT, accountName: "team", partition: PK, digest: "sha256:abc" },
    ]);
    expect(deletedLogs).toEqual(["i1"]);
  });
});
