import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { CosmosClient } from "@azure/cosmos";
import { Account, type EmulatedAccount, type EmulatedCollection } from "../../devhost/cosmos/emulator-internals.js";
import { installLinearQueries } from "../../devhost/cosmos/linear-queries.js";
import { installPartitionIndexes, partitionsOf } from "../../devhost/cosmos/partition-index.js";
import { queryDocuments } from "../../devhost/cosmos/document-queries.js";
import { startDurableCosmos, type DurableCosmos } from "../../devhost/cosmos/durable-cosmos-server.js";

installLinearQueries();
installPartitionIndexes();

type Doc = Record<string, unknown>;
type Page = { rows: unknown[]; continuation: string | null };

function emptyCollection(): { account: EmulatedAccount; collection: EmulatedCollection } {
  const account = new Account("127.0.0.1", 0);
  (account.databases as unknown as { create(d: Doc): void }).create({ id: "db" });
  (account.database("db").collections as unknown as { create(d: Doc): void }).create({
    id: "c",
    partitionKey: { paths: ["/pk"], kind: "Hash" },
  });
  return { account, collection: account.database("db").collection("c") };
}

/** A page as the durable server answers it: partition-scoped, along the index where it can. */
async function indexedPage(
  account: EmulatedAccount,
  sql: string,
  parameters: { name: string; value: unknown }[],
  pk: string,
  maxItemCount: number | null,
  continuation: string | null,
): Promise<Page> {
  const headers: Record<string, string> = {
    "x-ms-documentdb-partitionkey": JSON.stringify([pk]),
    "x-ms-documentdb-query-enablecrosspartition": "true",
  };
  if (maxItemCount !== null) headers["x-ms-max-item-count"] = String(maxItemCount);
  if (continuation) headers["x-ms-continuation"] = continuation;
  const set: Record<string, string> = {};
  const res = { statusCode: 200, setHeader: (k: string, v: string) => void (set[k] = v) };
  const body = (await queryDocuments(
    account,
    { headers } as unknown as IncomingMessage,
    res,
    { dbId: "db", collId: "c" },
    Buffer.from(JSON.stringify({ query: sql, parameters })),
  )) as { Documents: unknown[] };
  expect(res.statusCode).toBe(200);
  return { rows: body.Documents, continuation: set["x-ms-continuation"] ?? null };
}

/** A page as @vercel/cosmosdb-server answers it: the engine over every document of the container. */
function enginePage(
  collection: EmulatedCollection,
  sql: string,
  parameters: { name: string; value: unknown }[],
  maxItemCount: number | null,
  continuation: string | null,
): Page {
  const documents = collection.documents as unknown as { query(p: object, o: object): { result: unknown[]; continuation: unknown } };
  const r = documents.query({ query: sql, parameters }, { maxItemCount, continuation: continuation ? JSON.parse(continuation) : null });
  return { rows: r.result, continuation: r.continuation ? JSON.stringify(r.continuation) : null };
}

// Values of every type the engine orders, with ties, and documents that lack the field.
const sortValue = fc.oneof(
  fc.constantFrom("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z", "a", "b"),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(null, true, false, [1], [0, 2], { a: 1 }),
);
const docArb = fc.record(
  {
    pk: fc.constantFrom("p0", "p1", "p2"),
    kind: fc.constantFrom("model", "image"),
    name: fc.constantFrom("m", "n", "o"),
    createdAt: sortValue,
    nested: fc.record({ at: sortValue }, { requiredKeys: [] }),
  },
  { requiredKeys: ["pk", "kind", "name"] },
);
const write = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("create" as const), doc: docArb }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("replace" as const), pick: fc.nat(), doc: docArb }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("delete" as const), pick: fc.nat() }), weight: 1 },
);

const QUERIES: { sql: string; params: (pk: string) => { name: string; value: unknown }[] }[] = [
  {
    sql: "SELECT * FROM c WHERE c.pk = @pk AND c.kind = @kind ORDER BY c.createdAt DESC",
    params: (pk) => [
      { name: "@pk", value: pk },
      { name: "@kind", value: "model" },
    ],
  },
  { sql: "SELECT * FROM c WHERE c.pk = @pk ORDER BY c.createdAt", params: (pk) => [{ name: "@pk", value: pk }] },
  {
    sql: "SELECT c.id, c.name FROM c WHERE c.pk = @pk AND c.name = @name ORDER BY c.nested.at DESC",
    params: (pk) => [
      { name: "@pk", value: pk },
      { name: "@name", value: "m" },
    ],
  },
  { sql: 'SELECT * FROM root r WHERE r.pk = @pk ORDER BY r["name"] DESC', params: (pk) => [{ name: "@pk", value: pk }] },
  { sql: "SELECT * FROM c WHERE c.pk = @pk", params: (pk) => [{ name: "@pk", value: pk }] },
  { sql: "SELECT TOP 3 * FROM c WHERE c.pk = @pk ORDER BY c.createdAt", params: (pk) => [{ name: "@pk", value: pk }] },
  { sql: "SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk AND c.kind = 'image'", params: (pk) => [{ name: "@pk", value: pk }] },
];

describe("partition-scoped, indexed queries in the emulator", () => {
  it("answer every page exactly as the engine does over the whole container, through writes between pages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(write, { minLength: 10, maxLength: 80, size: "large" }),
        fc.array(write, { maxLength: 8 }),
        fc.constantFrom(...QUERIES.keys()),
        fc.constantFrom("p0", "p1", "p2"),
        fc.constantFrom(null, 1, 2, 3, 5, 100),
        async (before, between, queryIndex, pk, maxItemCount) => {
          const { account, collection } = emptyCollection();
          const docs = collection.documents;
          let n = 0;
          const apply = (w: (typeof before)[number]): void => {
            const live = [...docs._data.values()].map((i) => i.read()).filter((d): d is Doc => Boolean(d));
            if (w.op === "create") docs.create({ ...w.doc, id: `d${n++}` });
            else if (live.length === 0) return;
            else {
              const target = live[w.pick % live.length]!;
              if (w.op === "delete") docs.delete(String(target.id), target.pk);
              else docs.replace({ ...w.doc, pk: target.pk, id: target.id }, target);
            }
          };
          before.slice(0, 2).forEach(apply);
          partitionsOf(docs); // indexes built now follow the writes that come after
          before.slice(2).forEach(apply);

          const q = QUERIES[queryIndex]!;
          let indexed: Page = { rows: [], continuation: null };
          let engine: Page = { rows: [], continuation: null };
          for (let page = 0; page < 40; page++) {
            indexed = await indexedPage(account, q.sql, q.params(pk), pk, maxItemCount, indexed.continuation);
            engine = enginePage(collection, q.sql, q.params(pk), maxItemCount, engine.continuation);
            expect(indexed).toEqual(engine);
            if (!engine.continuation) break;
            if (page === 0) between.forEach(apply);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("widen their window along the index until a selective filter fills the page", async () => {
    const { account, collection } = emptyCollection();
    // 3 000 documents, one in 37 named "rare", many sharing a createdAt (ties go by _rid).
    for (let i = 0; i < 3000; i++)
      collection.documents.create({ id: `d${i}`, pk: "p", name: i % 37 === 0 ? "rare" : "common", createdAt: Math.floor(i / 3) });
    const sql = "SELECT * FROM c WHERE c.pk = @pk AND c.name = @name ORDER BY c.createdAt DESC";
    const params = [
      { name: "@pk", value: "p" },
      { name: "@name", value: "rare" },
    ];
    let indexed: Page = { rows: [], continuation: null };
    let engine: Page = { rows: [], continuation: null };
    let rows = 0;
    do {
      indexed = await indexedPage(account, sql, params, "p", 30, indexed.continuation);
      engine = enginePage(collection, sql, params, 30, engine.continuation);
      expect(indexed).toEqual(engine);
      rows += indexed.rows.length;
    } while (engine.continuation);
    expect(rows).toBe(Math.ceil(3000 / 37));
  });

  it("scope a query to the partition it names, as Cosmos DB does", async () => {
    const { account, collection } = emptyCollection();
    for (let i = 0; i < 6; i++) collection.documents.create({ id: `d${i}`, pk: `p${i % 2}`, createdAt: i });
    const page = await indexedPage(account, "SELECT * FROM c ORDER BY c.createdAt DESC", [], "p1", 10, null);
    expect(page.rows.map((d) => (d as Doc).id)).toEqual(["d5", "d3", "d1"]);
    const unordered = await indexedPage(account, "SELECT VALUE c.id FROM c", [], "p0", null, null);
    expect(unordered.rows).toEqual(["d0", "d2", "d4"]);
  });
});

describe("query plans in the durable emulator", () => {
  let running: DurableCosmos | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it("answers a plan request with a plan, not the query's rows, and the SDK's queries still page", async () => {
    running = await startDurableCosmos({ dataDir: mkdtempSync(join(tmpdir(), "mm-cosmos-plan-")) });
    const plan = await fetch(`${running.endpoint}dbs/db/colls/c/docs`, {
      method: "POST",
      headers: { "x-ms-cosmos-is-query-plan-request": "True", "content-type": "application/query+json", "x-ms-documentdb-isquery": "true" },
      body: JSON.stringify({ query: "SELECT * FROM c ORDER BY c.x" }),
    });
    expect(plan.status).toBe(200);
    const body = (await plan.json()) as { queryInfo?: { orderBy?: unknown[] }; Documents?: unknown };
    expect(body.Documents).toBeUndefined();
    expect(body.queryInfo?.orderBy).toEqual([]);

    const client = new CosmosClient({ endpoint: running.endpoint, key: Buffer.from("k").toString("base64") });
    const { database } = await client.databases.createIfNotExists({ id: "db" });
    const { container } = await database.containers.createIfNotExists({ id: "c", partitionKey: { paths: ["/pk"] } });
    for (let i = 0; i < 7; i++) await container.items.create({ id: `d${i}`, pk: i === 6 ? "other" : "p", at: i });
    const ids: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await container.items
        .query<{ id: string }>("SELECT * FROM c WHERE c.pk = 'p' ORDER BY c.at DESC", {
          partitionKey: "p",
          maxItemCount: 2,
          continuationToken,
        })
        .fetchNext();
      ids.push(...page.resources.map((d) => d.id));
      continuationToken = page.continuationToken;
    } while (continuationToken);
    expect(ids).toEqual(["d5", "d4", "d3", "d2", "d1", "d0"]);
    const { resources: count } = await container.items.query("SELECT VALUE COUNT(1) FROM c").fetchAll();
    expect(count).toEqual([7]);
  });
});
