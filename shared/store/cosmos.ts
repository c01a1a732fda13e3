import { CosmosClient, type Container } from "@azure/cosmos";
import { DefaultAzureCredential } from "@azure/identity";
import type { Config } from "../config.js";

/** The partition key path of the resources container: every document carries its account. */
export const PARTITION_KEY_PATH = "/pk";

/**
 * Opens the resources container. With a key (the local emulator) the client signs requests
 * with it; without one it uses the app's managed identity (or the developer's Azure CLI login).
 */
export async function openResourcesContainer(config: Config["cosmos"]): Promise<Container> {
  const client = config.key
    ? new CosmosClient({ endpoint: config.endpoint, key: config.key })
    : new CosmosClient({ endpoint: config.endpoint, aadCredentials: new DefaultAzureCredential() });
  if (!config.createIfMissing) return client.database(config.database).container(config.container);
  const { database } = await client.databases.createIfNotExists({ id: config.database });
  const { container } = await database.containers.createIfNotExists({
    id: config.container,
    partitionKey: { paths: [PARTITION_KEY_PATH] },
  });
  return container;
}
