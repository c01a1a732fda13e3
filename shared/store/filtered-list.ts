import type { Page, Pages } from "./pagination.js";

/** One optional filter of a list: its SQL (naming `@param`) and the value, when the caller gave one. */
interface Filter {
  sql: string;
  param: string;
  value: string | undefined;
}

/**
 * One page of an account's documents of a kind, with the filters the caller gave, in the given
 * order. The filters (given or not) also make the skip token's query key, so a token is only
 * good for the list that issued it.
 */
export function filteredList<T>(
  pages: Pages,
  pk: string,
  kind: string,
  filters: Filter[],
  orderBy: string,
  page: { pageSize: number; skipToken: string | undefined },
): Promise<Page<T>> {
  const given = filters.filter((f) => f.value !== undefined);
  const where = ["c.pk = @pk", "c.kind = @kind", ...given.map((f) => f.sql)];
  const parameters = [
    { name: "@pk", value: pk },
    { name: "@kind", value: kind },
    ...given.map((f) => ({ name: f.param, value: f.value! })),
  ];
  return pages.query<T>(
    { query: `SELECT * FROM c WHERE ${where.join(" AND ")} ORDER BY ${orderBy}`, parameters },
    { ...page, partitionKey: pk, queryKey: `${kind}|${JSON.stringify(filters.map((f) => f.value ?? null))}` },
  );
}
