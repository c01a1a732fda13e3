import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { installLinearQueries } from "../../devhost/cosmos/linear-queries.js";

const require = createRequire(import.meta.url);
const query = (
  require("@zeit/cosmosdb-query") as { default: (sql: string) => { code: string; exec(docs: unknown[], o: object): { result: unknown[] } } }
).default;

/** Without ORDER BY the engine answers in _rid order (as strings). */
const byRid = <T extends { _rid: string }>(list: T[]) => [...list].sort((a, b) => (a._rid < b._rid ? -1 : 1));

const docs = Array.from({ length: 20_000 }, (_, i) => ({
  id: `d${i}`,
  pk: `p${i % 4}`,
  kind: i % 5 === 0 ? "operation" : "model",
  tags: [`t${i % 3}`],
  createdAt: new Date(1e12 + i * 1000).toISOString(),
  children: [{ n: i % 7 }, { n: 100 }],
  _rid: `r${i}`,
  _ts: 1,
}));

describe("the emulator's queries, made linear", () => {
  installLinearQueries();

  it("compiles FROM and JOIN without copying the accumulator per document", () => {
    for (const sql of ["SELECT * FROM c", "SELECT c.id, ch.n FROM c JOIN ch IN c.children", "SELECT * FROM c.children[0] x"]) {
      expect(query(sql).code).not.toContain("[...$");
      expect(query(sql).code).toContain("$.push(");
    }
  });

  it("answers what the queries the app uses ask, over many documents", () => {
    const page = query("SELECT * FROM c WHERE c.pk = @pk AND c.kind = 'model' ORDER BY c.createdAt DESC").exec(docs, {
      parameters: [{ name: "@pk", value: "p1" }],
      maxItemCount: 100,
    }).result as { id: string }[];
    const expected = docs
      .filter((d) => d.pk === "p1" && d.kind === "model")
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, 100)
      .map((d) => d.id);
    expect(page.map((d) => d.id)).toEqual(expected);

    const tagged = query("SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, 't2') AND c.kind = 'operation'").exec(docs, {
      maxItemCount: 100_000,
    }).result;
    expect(tagged).toEqual(byRid(docs.filter((d) => d.tags.includes("t2") && d.kind === "operation")).map((d) => d.id));

    const joined = query("SELECT c.id, ch.n FROM c JOIN ch IN c.children WHERE ch.n = 3").exec(docs, { maxItemCount: 100_000 }).result;
    expect(joined).toEqual(byRid(docs.filter((d) => d.children.some((c) => c.n === 3))).map((d) => ({ id: d.id, n: 3 })));

    const count = query("SELECT VALUE COUNT(1) FROM c WHERE c.pk = 'p0'").exec(docs, {}).result;
    expect(count).toEqual([docs.filter((d) => d.pk === "p0").length]);
  });
});
