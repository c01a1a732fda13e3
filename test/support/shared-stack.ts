import { inject } from "vitest";
import { ApiClient, tokensFor } from "./api-client.js";

/** The suite-wide local stack started by global-setup.ts, and tokens of its issuer. */
export async function sharedStack() {
  const { apiBaseUrl, dataDir } = inject("stack");
  const token = await tokensFor(dataDir);
  const owner = new ApiClient(apiBaseUrl, await token());
  return { apiBaseUrl, dataDir, token, owner, anonymous: new ApiClient(apiBaseUrl) };
}
