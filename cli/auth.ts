import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AzureCliCredential, DefaultAzureCredential, DeviceCodeCredential, type TokenCredential } from "@azure/identity";
import { openLocalIssuer } from "../devhost/local-issuer.js";
import { CliError } from "./errors.js";
import { configDir, writePrivate, type AuthSettings } from "./settings.js";

/** A bearer token for the API, fetched once per command. */
export type TokenSource = () => Promise<string>;

export function tokenSource(auth: AuthSettings): TokenSource {
  let cached: Promise<string> | undefined;
  return () => (cached ??= auth.kind === "local" ? localToken(auth.dataDir) : azureToken(auth));
}

/** The local stack's issuer signs a short token for the local user, as `npm run token` does. */
async function localToken(dataDir: string): Promise<string> {
  if (!existsSync(join(dataDir, "auth", "signing-key.json"))) {
    throw new CliError(
      `No local issuer key in ${join(dataDir, "auth")}: start the local stack with \`npm start\`, or run \`mm login\` for a hosted endpoint.`,
    );
  }
  return (await openLocalIssuer(dataDir)).mint({ ttlSeconds: 3600 });
}

export function azureCredential(auth: Extract<AuthSettings, { kind: "azure" }>): TokenCredential {
  const tenantId = auth.tenantId;
  switch (auth.method) {
    case "cli":
      return new AzureCliCredential(tenantId ? { tenantId } : {});
    case "device-code":
      return new DeviceCodeCredential({
        ...(tenantId ? { tenantId } : {}),
        userPromptCallback: (info) => process.stderr.write(`${info.message}\n`),
      });
    default:
      return new DefaultAzureCredential(tenantId ? { tenantId } : {});
  }
}

interface SavedToken {
  scope: string;
  token: string;
  expiresOn: number;
}

/**
 * An Entra ID token for the API's scope. A device-code sign-in is kept (0600, in the config
 * directory) until five minutes before it expires, so it is not asked for on every command;
 * the Azure CLI and managed identities keep their own caches.
 */
async function azureToken(auth: Extract<AuthSettings, { kind: "azure" }>): Promise<string> {
  const cachePath = join(configDir(), "token.json");
  if (auth.method === "device-code" && existsSync(cachePath)) {
    const saved = JSON.parse(readFileSync(cachePath, "utf8")) as SavedToken;
    if (saved.scope === auth.scope && saved.expiresOn - Date.now() > 5 * 60_000) return saved.token;
  }
  let token;
  try {
    token = await azureCredential(auth).getToken(auth.scope);
  } catch (err) {
    throw new CliError(
      `Could not sign in to Entra ID for ${auth.scope}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
  }
  if (!token) throw new CliError(`Entra ID gave no token for ${auth.scope}.`);
  if (auth.method === "device-code")
    writePrivate(
      cachePath,
      JSON.stringify({ scope: auth.scope, token: token.token, expiresOn: token.expiresOnTimestamp } satisfies SavedToken),
    );
  return token.token;
}
