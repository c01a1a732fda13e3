import { dataPartitionOf } from "../account-ref.js";
import type { Container } from "@azure/cosmos";
import type { JSONObject } from "@azure/cosmos";
import type { AccountDocument, OperationDocument } from "./documents.js";
import type { Page, Pages } from "./pagination.js";
import {
  batchAnswer,
  batchFailure,
  batchSucceeded,
  conditionalReplace,
  countWhere,
  readOfKind,
  replaceIfUnchanged,
  runBatch,
} from "./document-io.js";

/** The account document's id inside its own partition: one account per partition. */
export const ACCOUNT_DOCUMENT_ID = "account";

export type StoredAccount = AccountDocument & { _etag: string };

export class AccountRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  get(pk: string): Promise<StoredAccount | undefined> {
    return readOfKind<AccountDocument>(this.container, pk, ACCOUNT_DOCUMENT_ID, "account");
  }

  /** Creates the account; undefined when one exists already. */
  async create(doc: AccountDocument): Promise<StoredAccount | undefined> {
    try {
      const { resource } = await this.container.items.create<AccountDocument>(doc);
      return resource as StoredAccount;
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return undefined;
      throw err;
    }
  }

  /** Replaces the account if it is unchanged since it was read; undefined when it changed. */
  replace(doc: AccountDocument, etag: string): Promise<StoredAccount | undefined> {
    return replaceIfUnchanged<AccountDocument>(this.container, { ...doc, _etag: etag });
  }

  /**
   * Marks the account Deleting and writes the purge that deletes what it holds, in one batch, if
   * the account is unchanged since read: the account disappears for every caller at the moment
   * its purge is acknowledged. Undefined when the account changed meanwhile.
   */
  async startDeletion(account: StoredAccount, purge: OperationDocument): Promise<StoredAccount | undefined> {
    const marked: StoredAccount = { ...account, state: "Deleting", purgeOperationId: purge.id };
    const response = await runBatch(
      this.container,
      [conditionalReplace(marked), { operationType: "Create", partitionKey: account.pk, resourceBody: purge as unknown as JSONObject }],
      account.pk,
    );
    if (batchSucceeded(response, 2)) return response.result![0]!.resourceBody as unknown as StoredAccount;
    const failed = batchFailure(response);
    if (failed.index === 0 && (failed.status === 412 || failed.status === 404)) return undefined;
    throw new Error(`Marking ${account.pk} Deleting failed: batch answered ${batchAnswer(response)}.`);
  }

  /** The ready accounts of a resource group that a principal has a role on (a cross-partition query). */
  listVisible(
    subscriptionId: string,
    resourceGroupName: string,
    principalId: string,
    pageSize: number,
    skipToken: string | undefined,
  ): Promise<Page<StoredAccount>> {
    return this.pages.query<StoredAccount>(
      {
        query:
          "SELECT * FROM c WHERE c.kind = 'account' AND c.state = 'Ready' AND c.subscriptionId = @s AND c.resourceGroupName = @rg AND ARRAY_CONTAINS(c.memberIds, @p) ORDER BY c.name",
        parameters: [
          { name: "@s", value: subscriptionId },
          { name: "@rg", value: resourceGroupName },
          { name: "@p", value: principalId },
        ],
      },
      { pageSize, skipToken, queryKey: `accounts|${subscriptionId}|${resourceGroupName}` },
    );
  }

  countOfKind(pk: string, kind: string): Promise<number> {
    return countWhere(this.container, pk, "c.kind = @k", [{ name: "@k", value: kind }]);
  }

  /**
   * Deletes every document of the account: its resources' partition (its incarnation's), then
   * what its own partition holds (resources of accounts made before incarnations), the account
   * document last. Purge operations of its own partition stay: the one doing this, and those
   * scheduled for this life or earlier lives of the name, which must still run.
   */
  async deleteAll(account: StoredAccount): Promise<void> {
    const data = dataPartitionOf(account);
    if (data !== account.pk) await this.deletePartition(data);
    await this.deletePartition(account.pk, { sparePurges: true });
    await this.#deleteIfPresent(ACCOUNT_DOCUMENT_ID, account.pk);
  }

  /** Deletes the documents of a partition, but not an account document (nor, with `sparePurges`, purge operations). */
  async deletePartition(pk: string, options: { sparePurges?: boolean } = {}): Promise<void> {
    const purges = options.sparePurges ? " AND NOT (c.kind = 'operation' AND c.operationType = 'Purge')" : "";
    for (;;) {
      const { resources } = await this.container.items
        .query<{ id: string }>(
          {
            query: `SELECT c.id FROM c WHERE c.pk = @pk AND c.id != @account${purges}`,
            parameters: [
              { name: "@pk", value: pk },
              { name: "@account", value: ACCOUNT_DOCUMENT_ID },
            ],
          },
          { partitionKey: pk, maxItemCount: 100 },
        )
        .fetchNext();
      if (resources.length === 0) break;
      await Promise.all(resources.map((r) => this.#deleteIfPresent(r.id, pk)));
    }
  }

  async #deleteIfPresent(id: string, pk: string): Promise<void> {
    try {
      await this.container.item(id, pk).delete();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 404) throw err;
    }
  }
}

/**
 * The partition of the resources of the account at `path`, read from its document: for tools
 * that seed or inspect the store under the API (benchmarks, tests).
 */
export async function dataPartitionAt(container: Container, path: string): Promise<string> {
  const { resource } = await container.item(ACCOUNT_DOCUMENT_ID, path).read<AccountDocument>();
  if (!resource) throw new Error(`There is no account ${path}.`);
  return dataPartitionOf(resource);
}
