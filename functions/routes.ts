/** Route templates (under the host's `api` prefix), as in spec/api.md. */
export const RESOURCE_GROUP_ROUTE = "subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}";
export const ACCOUNT_ROUTE = `${RESOURCE_GROUP_ROUTE}/accounts/{accountName}`;
