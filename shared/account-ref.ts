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

export function parseAccountPath(path: string): AccountRef {
  const m = /^subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/accounts\/([^/]+)$/.exec(path);
  if (!m) throw new Error(`"${path}" is not an account path (subscriptions/<id>/resourceGroups/<name>/accounts/<name>).`);
  return { subscriptionId: m[1]!, resourceGroupName: m[2]!, accountName: m[3]! };
}
