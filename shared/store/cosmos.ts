import { CosmosClient, type Container } from "@azure/cosmos";
import { DefaultAzureCredential } from "@azure/identity";
import type { Config } from "../config.js";
import { AccountRepository } from "./account-repository.js";
import { ImageRepository } from "./image-repository.js";
import { ManifestRepository } from "./manifest-repository.js";
import { ModelRepository } from "./model-repository.js";
import { OperationRepository } from "./operation-repository.js";
import { ServiceRepository } from "./service-repository.js";
import { Pages, skipTokenKeyFrom } from "./pagination.js";

/** The partition key path of the resources container: every document carries its account. */
export const PARTITION_KEY_PATH = "/pk";

/**
 * Opens the resources container. With a key (the local emulator) the client signs requests
 * with it; without one it uses the app's managed identity (or the developer's Azure CLI login).
 */
async function openResourcesContainer(config: Config["cosmos"]): Promise<Container> {
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

/** The repositories of the resources container: the store, as the composition root builds it. */
export interface Store {
  accounts: AccountRepository;
  models: ModelRepository;
  manifests: ManifestRepository;
  images: ImageRepository;
  services: ServiceRepository;
  operations: OperationRepository;
}

/** Opens the resources container and builds its repositories, once; `serverSecret` keys the skip tokens. */
export async function openStore(config: Config["cosmos"], serverSecret: string | undefined): Promise<Store> {
  const container = await openResourcesContainer(config);
  const pages = new Pages(container, skipTokenKeyFrom(serverSecret));
  return {
    accounts: new AccountRepository(container, pages),
    models: new ModelRepository(container, pages),
    manifests: new ManifestRepository(container, pages),
    images: new ImageRepository(container, pages),
    services: new ServiceRepository(container, pages),
    operations: new OperationRepository(container),
  };
}
