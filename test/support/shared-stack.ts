import { CosmosClient } from "@azure/cosmos";
import { inject } from "vitest";
import { ApiClient, tokensFor } from "./api-client.js";

/** The suite-wide local stack started by global-setup.ts, and tokens of its issuer. */
export async function sharedStack() {
  const { apiBaseUrl, dataDir, cosmosEndpoint } = inject("stack");
  const token = await tokensFor(dataDir);
  const owner = new ApiClient(apiBaseUrl, await token());
  return { apiBaseUrl, dataDir, cosmosEndpoint, token, owner, anonymous: new ApiClient(apiBaseUrl) };
}

/** The stack's resources container, for tests that look under the API (the real @azure/cosmos SDK). */
export function resourcesContainer(cosmosEndpoint: string) {
  const client = new CosmosClient({ endpoint: cosmosEndpoint, key: Buffer.from("local-emulator").toString("base64") });
  return client.database("modelmanagement").container("resources");
}
