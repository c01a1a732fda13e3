import { randomUUID } from "node:crypto";
import type { OperationDocument, StoredDocument, WithEtag } from "../../shared/store/documents.js";
import type { OperationStore } from "../../shared/operations/operations.js";

/**
 * The operations module's store, in memory: documents of any kind by partition and id, each with
 * an ETag that changes on every write, and writes of several documents that happen together or
 * not at all — what the Cosmos repositories do with ETag conditions and transactional batches.
 * For unit tests of the module; the integration suites run the Cosmos one.
 */
export class MemoryOperationStore implements OperationStore {
  readonly #docs = new Map<string, WithEtag<StoredDocument>>();
  /** Called before each commit is checked: a test can change a document under a writer here. */
  beforeCommit: (() => void) | undefined;

  #key(pk: string, id: string): string {
    return `${pk}|${id}`;
  }

  /** Puts a document as it is (a new ETag), as a test's setup or a concurrent writer would. */
  put<T extends StoredDocument>(doc: T): WithEtag<T> {
    const stored = { ...doc, _etag: randomUUID() } as WithEtag<T>;
    this.#docs.set(this.#key(doc.pk, doc.id), stored);
    return stored;
  }

  remove(pk: string, id: string): void {
    this.#docs.delete(this.#key(pk, id));
  }

  read<T extends StoredDocument>(pk: string, id: string): WithEtag<T> | undefined {
    const doc = this.#docs.get(this.#key(pk, id));
    return doc ? (structuredClone(doc) as WithEtag<T>) : undefined;
  }

  async get(pk: string, id: string): Promise<WithEtag<OperationDocument> | undefined> {
    const doc = this.read<OperationDocument>(pk, id);
    return doc?.kind === "operation" ? doc : undefined;
  }

  async replace(op: WithEtag<OperationDocument>): Promise<WithEtag<OperationDocument> | undefined> {
    return (await this.commit(op, [])) ? this.read<OperationDocument>(op.pk, op.id) : undefined;
  }

  async commit(op: WithEtag<OperationDocument>, resources: WithEtag<StoredDocument>[]): Promise<boolean> {
    this.beforeCommit?.();
    const docs = [op, ...resources];
    if (docs.some((d) => d.pk !== op.pk)) throw new Error("a commit stays in one partition");
    if (docs.some((d) => this.#docs.get(this.#key(d.pk, d.id))?._etag !== d._etag)) return false;
    for (const d of docs) {
      const { _etag, ...body } = d;
      void _etag;
      this.put(body);
    }
    return true;
  }

  async listStalled(before: string, now: string, limit: number): Promise<WithEtag<OperationDocument>[]> {
    return [...this.#docs.values()]
      .filter((d): d is WithEtag<OperationDocument> => d.kind === "operation")
      .filter((op) => (op.state === "NotStarted" || op.state === "Running") && (op.heartbeatAt ?? op.createdTime) < before)
      .filter((op) => op.notBefore === undefined || op.notBefore < now)
      .slice(0, limit)
      .map((op) => structuredClone(op));
  }
}
