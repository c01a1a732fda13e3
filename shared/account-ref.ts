/** Names an account: the three path segments every account-scoped route starts with. */
export interface AccountRef {
  subscriptionId: string;
  resourceGroupName: string;
  accountName: string;
}

/** `subscriptions/{s}/resourceGroups/{rg}/accounts/{a}`: the account's partition key and display name. */
export function accountPath(ref: AccountRef): string {
  return `subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroupName}/accounts/${ref.accountName}`;
}

/**
 * The partition of an account's resources: its path and its incarnation, so that an account
 * deleted and created again under the same name starts with an empty partition, and a write
 * still in flight for the deleted one lands where the new one never looks. Accounts created
 * before incarnations existed keep their resources in the account's own partition.
 */
export function dataPartitionOf(account: { pk: string; incarnation?: string }): string {
  return account.incarnation ? `${account.pk}/incarnations/${account.incarnation}` : account.pk;
}

/** The account path of a data partition (what URLs, blob prefixes and messages name). */
export function accountPathOfPartition(partition: string): string {
  const at = partition.indexOf("/incarnations/");
  return at < 0 ? partition : partition.slice(0, at);
}

export function parseAccountPath(path: string): AccountRef {
  const m = /^subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/accounts\/([^/]+)$/.exec(path);
  if (!m) throw new Error(`"${path}" is not an account path (subscriptions/<id>/resourceGroups/<name>/accounts/<name>).`);
  return { subscriptionId: m[1]!, resourceGroupName: m[2]!, accountName: m[3]! };
}
