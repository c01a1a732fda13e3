import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

/**
 * The local stack's token issuer: an RS256 key pair generated into the data directory on first
 * use. The Functions host serves the public half as a JWKS, and the app validates local tokens
 * with exactly the code that validates Entra ID tokens in Azure.
 */
export const LOCAL_ISSUER = "urn:model-management:local-issuer";
export const LOCAL_AUDIENCE = "api://model-management";
/** The local user, Owner of the default account. */
export const LOCAL_USER_ID = "00000000-0000-0000-0000-000000000001";
export const LOCAL_DEFAULT_ACCOUNT = "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/accounts/default";

interface LocalIssuer {
  jwksPath: string;
  mint(options?: { principalId?: string; name?: string; ttlSeconds?: number; audience?: string }): Promise<string>;
}

export async function openLocalIssuer(dataDir: string): Promise<LocalIssuer> {
  const dir = join(dataDir, "auth");
  const keyPath = join(dir, "signing-key.json");
  const jwksPath = join(dir, "jwks.json");
  if (!existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
    writeFileSync(keyPath, JSON.stringify(privateJwk), { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(jwksPath, JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "RS256", use: "sig" }] }, null, 2));
  }
  const jwk = JSON.parse(readFileSync(keyPath, "utf8")) as JWK & { kid: string };
  const key = await importJWK(jwk, "RS256");
  return {
    jwksPath,
    async mint({ principalId = LOCAL_USER_ID, name = "Local user", ttlSeconds = 12 * 3600, audience = LOCAL_AUDIENCE } = {}) {
      return new SignJWT({ oid: principalId, name })
        .setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "JWT" })
        .setIssuer(LOCAL_ISSUER)
        .setAudience(audience)
        .setSubject(principalId)
        .setIssuedAt()
        .setNotBefore("0s")
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
  };
}
