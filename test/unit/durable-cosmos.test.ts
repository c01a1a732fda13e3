import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CosmosClient, type Container } from "@azure/cosmos";
import { startDurableCosmos, type DurableCosmos } from "../../devhost/cosmos/durable-cosmos-server.js";

let running: DurableCosmos | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function open(dataDir: string, compactAfterBytes?: number): Promise<Container> {
  running = await startDurableCosmos({ dataDir, compactAfterBytes });
  const client = new CosmosClient({ endpoint: running.endpoint, key: Buffer.from("k").toString("base64") });
  const { database } = await client.databases.createIfNotExists({ id: "db" });
  const { container } = await database.containers.createIfNotExists({ id: "c", partitionKey: { paths: ["/pk"] } });
  return container;
}

describe("the durable Cosmos emulator", () => {
  it("rebuilds creates, replaces, upserts, patches, deletes and batches from its journal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-cosmos-"));
    let c = await open(dir);
    await c.items.create({ id: "a", pk: "p", v: 1 });
    await c.items.create({ id: "b", pk: "p", v: 1 });
    await c.items.upsert({ id: "c", pk: "q", v: 1 });
    const { resource: a } = await c.item("a", "p").read();
    await c.item("a", "p").replace({ ...a, v: 2 }, { accessCondition: { type: "IfMatch", condition: a._etag } });
    await c.item("b", "p").delete();
    await c.item("c", "q").patch([{ op: "set", path: "/v", value: 3 }]);
    const { resource: counter } = await c.items.create({ id: "n", pk: "p", last: 1 });
    const batch = await c.items.batch(
      [
        { operationType: "Replace", id: "n", partitionKey: "p", ifMatch: counter!._etag, resourceBody: { id: "n", pk: "p", last: 2 } },
        { operationType: "Create", partitionKey: "p", resourceBody: { id: "d", pk: "p", v: 1 } },
      ],
      "p",
    );
    expect(batch.result!.map((r) => r.statusCode)).toEqual([200, 201]);
    // A batch whose first operation fails leaves no trace, then or after a restart.
    const failed = await c.items.batch(
      [
        { operationType: "Replace", id: "n", partitionKey: "p", ifMatch: "stale", resourceBody: { id: "n", pk: "p", last: 99 } },
        { operationType: "Create", partitionKey: "p", resourceBody: { id: "e", pk: "p" } },
      ],
      "p",
    );
    expect(failed.result![0]!.statusCode).toBe(412);
    await running!.close();
    running = undefined;

    c = await open(dir);
    const ids = (await c.items.query("SELECT c.id, c.v, c.last FROM c").fetchAll()).resources.sort((x, y) => x.id.localeCompare(y.id));
    expect(ids).toEqual([
      { id: "a", v: 2 },
      { id: "c", v: 3 },
      { id: "d", v: 1 },
      { id: "n", last: 2 },
    ]);
  });

  it("runs a batch all or nothing, as Cosmos DB does: one that fails late leaves every document as it was, ETags too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-cosmos-"));
    let c = await open(dir);
    const { resource: counter } = await c.items.create({ id: "n", pk: "p", last: 1 });
    const { resource: doomed } = await c.items.create({ id: "x", pk: "p", v: 1 });
    const failed = await c.items.batch(
      [
        { operationType: "Replace", id: "n", partitionKey: "p", ifMatch: counter!._etag, resourceBody: { id: "n", pk: "p", last: 2 } },
        { operationType: "Create", partitionKey: "p", resourceBody: { id: "new", pk: "p" } },
        { operationType: "Delete", id: "x", partitionKey: "p" },
        { operationType: "Replace", id: "n", partitionKey: "p", ifMatch: "stale", resourceBody: { id: "n", pk: "p", last: 3 } },
      ],
      "p",
    );
    expect(failed.result!.map((r) => r.statusCode)).toEqual([200, 201, 204, 412]);
    const check = async () => {
      expect((await c.item("n", "p").read()).resource).toMatchObject({ last: 1, _etag: counter!._etag });
      expect((await c.item("x", "p").read()).resource).toMatchObject({ v: 1, _etag: doomed!._etag });
      expect((await c.item("new", "p").read()).resource).toBeUndefined();
    };
    await check();
    await running!.close();
    running = undefined;
    c = await open(dir);
    expect((await c.item("new", "p").read()).resource).toBeUndefined();
    expect((await c.item("n", "p").read()).resource).toMatchObject({ last: 1 });
    expect((await c.item("x", "p").read()).resource).toMatchObject({ v: 1 });
  });

  it("ignores a journal line cut short by a crash (it was never acknowledged)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-cosmos-"));
    let c = await open(dir);
    await c.items.create({ id: "kept", pk: "p" });
    await running!.close();
    running = undefined;
    appendFileSync(join(dir, "journal.jsonl"), '[{"k":"doc","db":"db","coll":"c","body":{"id":"torn"');
    c = await open(dir);
    expect((await c.item("kept", "p").read()).statusCode).toBe(200);
    expect((await c.item("torn", "p").read()).statusCode).toBe(404);
  });

  it("folds the journal into a snapshot once it grows past its limit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-cosmos-"));
    const c = await open(dir, 4096);
    for (let i = 0; i < 40; i++) await c.items.upsert({ id: `doc-${i % 5}`, pk: "p", i, pad: "x".repeat(200) });
    await new Promise((r) => setTimeout(r, 100));
    expect(statSync(join(dir, "journal.jsonl")).size).toBeLessThan(4096 + 1024);
    expect(readFileSync(join(dir, "snapshot.jsonl"), "utf8")).toContain("doc-4");
    await running!.close();
    running = undefined;
    const again = await open(dir);
    const docs = (await again.items.query("SELECT c.id, c.i FROM c").fetchAll()).resources.sort((x, y) => x.id.localeCompare(y.id));
    expect(docs).toEqual([0, 1, 2, 3, 4].map((n) => ({ id: `doc-${n}`, i: 35 + n })));
  });
});
