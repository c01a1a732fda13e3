import type { Container } from "@azure/cosmos";

/** A document that refers to another, as a 409 ResourceInUse names it. */
export interface Reference {
  kind: string;
  id: string;
  name?: string;
  version?: number;
}

/** How many referring documents a 409 names: enough to act on, bounded for a resource used everywhere. */
const NAMED = 10;

/** Documents of one kind in a partition that refer to `id` by the given condition (on `@id`), newest first. */
export async function referencesTo(container: Container, pk: string, kind: string, condition: string, id: string): Promise<Reference[]> {
  const { resources } = await container.items
    .query<Reference & { serviceName?: string }>(
      {
        query: `SELECT TOP ${NAMED} c.kind, c.id, c.name, c.version, c.serviceName FROM c WHERE c.pk = @pk AND c.kind = @kind AND ${condition}`,
        parameters: [
          { name: "@pk", value: pk },
          { name: "@kind", value: kind },
          { name: "@id", value: id },
        ],
      },
      { partitionKey: pk },
    )
    .fetchAll();
  // A deployment is named by its service.
  return resources.map(({ serviceName, ...r }) => (serviceName !== undefined && r.name === undefined ? { ...r, name: serviceName } : r));
}
