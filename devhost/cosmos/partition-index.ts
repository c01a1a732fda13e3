import { createRequire } from "node:module";
import type * as SortedBtree from "sorted-btree";
import { emulatorClass, type DocumentSet } from "./emulator-internals.js";
import { compareValues, valueAt, type SingleOrder } from "./query-order.js";

/**
 * Partitions and ordered indexes for the emulator's documents, kept up to date on every write.
 *
 * @vercel/cosmosdb-server answers a query by handing its engine every document of the container
 * and letting it filter and sort them all, so a first page of a 100 000-document partition costs
 * a scan and a sort of everything. Cosmos DB scopes a query to the partition it names and serves
 * ORDER BY from its range index, stopping once the page is full. These indexes let the emulator
 * do the same: the documents of one partition, and per ORDER BY path the ones that have a value
 * there, in the engine's own order (value, then `_rid`).
 */

const require = createRequire(import.meta.url);
// sorted-btree is CommonJS with its class as `exports.default`.
const BTree = (require("sorted-btree") as typeof SortedBtree.default).default;
type BTreeType<K, V> = InstanceType<typeof BTree<K, V>>;

type Doc = Record<string, unknown>;
/** An index key: the ORDER BY value, then the `_rid` that breaks ties (as the engine's sort does). */
type OrderKey = [unknown, string];

export class OrderIndex {
  readonly #tree: BTreeType<OrderKey, Doc>;
  /** The key each document went in under, to take it out again exactly. */
  readonly #keys = new Map<string, OrderKey>();

  constructor(private readonly order: SingleOrder) {
    const direction = order.descending ? -1 : 1;
    this.#tree = new BTree<OrderKey, Doc>(undefined, (a, b) => direction * compareValues(a[0], b[0]) || compareValues(a[1], b[1]));
  }

  add(doc: Doc): void {
    const value = valueAt(doc, this.order.path);
    // The engine drops documents without a value at a single ORDER BY path: so does the index.
    if (value === undefined) return;
    const key: OrderKey = [value, String(doc._rid)];
    this.#keys.set(key[1], key);
    this.#tree.set(key, doc);
  }

  remove(rid: string): void {
    const key = this.#keys.get(rid);
    if (!key) return;
    this.#keys.delete(rid);
    this.#tree.delete(key);
  }

  /**
   * Up to `count` documents in order, from the first one at or after (value, rid): where the
   * engine resumes a continuation token carrying them.
   */
  take(count: number, from?: { value: unknown; rid: string }): Doc[] {
    const docs: Doc[] = [];
    if (count <= 0) return docs;
    for (const [, doc] of this.#tree.entries(from ? [from.value, from.rid] : undefined)) {
      docs.push(doc);
      if (docs.length >= count) break;
    }
    return docs;
  }

  get size(): number {
    return this.#tree.size;
  }
}

class Partition {
  /** The partition's documents in the container's own order (insertion, a replace moves to the end). */
  readonly docs = new Map<string, Doc>();
  readonly #orders = new Map<string, OrderIndex>();

  add(doc: Doc): void {
    this.docs.set(String(doc._rid), doc);
    for (const index of this.#orders.values()) index.add(doc);
  }

  remove(rid: string): void {
    this.docs.delete(rid);
    for (const index of this.#orders.values()) index.remove(rid);
  }

  /** The index for an ORDER BY, built on first use from the partition's documents. */
  ordered(order: SingleOrder): OrderIndex {
    const name = `${order.descending ? "desc" : "asc"}:${JSON.stringify(order.path)}`;
    let index = this.#orders.get(name);
    if (!index) {
      index = new OrderIndex(order);
      for (const doc of this.docs.values()) index.add(doc);
      this.#orders.set(name, index);
    }
    return index;
  }
}

/** The partitions of one container's documents. */
class PartitionedDocuments {
  readonly #partitions = new Map<unknown, Partition>();

  constructor(private readonly documents: DocumentSet) {
    for (const doc of storedDocuments(documents)) this.add(doc);
  }

  partition(value: unknown): Partition | undefined {
    return this.#partitions.get(value);
  }

  add(doc: Doc): void {
    const value = this.documents._getPartition(doc);
    let partition = this.#partitions.get(value);
    if (!partition) {
      partition = new Partition();
      this.#partitions.set(value, partition);
    }
    partition.add(doc);
  }

  remove(doc: Doc): void {
    const value = this.documents._getPartition(doc);
    const partition = this.#partitions.get(value);
    if (!partition) return;
    partition.remove(String(doc._rid));
    if (partition.docs.size === 0) this.#partitions.delete(value);
  }
}

/** A container's documents as the emulator holds them, in its own order. */
export function* storedDocuments(documents: DocumentSet): Generator<Doc> {
  for (const item of documents._data.values()) {
    const doc = item.read();
    if (doc) yield doc;
  }
}

const partitioned = new WeakMap<DocumentSet, PartitionedDocuments>();

/** A container's partitions: built on first query, then kept in step by every write. */
export function partitionsOf(documents: DocumentSet): PartitionedDocuments {
  let p = partitioned.get(documents);
  if (!p) {
    p = new PartitionedDocuments(documents);
    partitioned.set(documents, p);
  }
  return p;
}

let installed = false;

/**
 * Hooks the two places every document write of the emulator goes through (`_set` stores a
 * document, `delete` drops one; a replace is a delete then a set), so that partitions already
 * built follow each change.
 */
export function installPartitionIndexes(): void {
  if (installed) return;
  installed = true;
  const proto = emulatorClass("account/documents.js").prototype as DocumentSet;
  const set = proto._set;
  const del = proto.delete;
  proto._set = function (this: DocumentSet, data: Doc): Doc {
    const stored = set.call(this, data);
    partitioned.get(this)?.add(stored);
    return stored;
  };
  proto.delete = function (this: DocumentSet, idOrRid: string, partition: unknown): void {
    const doc = this._item("/id", idOrRid, partition).read();
    del.call(this, idOrRid, partition);
    if (doc) partitioned.get(this)?.remove(doc);
  };
}
