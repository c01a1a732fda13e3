import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

const ISSUER = "urn:model-management:local-issuer";
const AUDIENCE = "api://model-management";

/** Tokens that must all be refused, each wrong in one way, made with the stack's real key where it matters. */
export async function badTokens(dataDir: string): Promise<Record<string, string | undefined>> {
  const jwk = JSON.parse(readFileSync(join(dataDir, "auth", "signing-key.json"), "utf8")) as JWK & { kid: string };
  const realKey = await importJWK(jwk, "RS256");
  const { privateKey: otherKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, key = realKey, kid = jwk.kid) =>
    new SignJWT({ oid: "00000000-0000-0000-0000-000000000001", ...claims }).setProtectedHeader({ alg: "RS256", kid }).sign(key);
  const valid = { iss: ISSUER, aud: AUDIENCE, iat: now, nbf: now - 10, exp: now + 600 };
  const good = await sign(valid);
  const [header, payload] = good.split(".");
  const unsignedHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
  return {
    missing: undefined,
    "not a JWT": "Bearer not-a-jwt",
    "Basic scheme": `Basic ${Buffer.from("user:pass").toString("base64")}`,
    "garbage segments": "Bearer aaa.bbb.ccc",
    forged: `Bearer ${await sign(valid, otherKey)}`,
    "tampered payload": `Bearer ${header}.${Buffer.from(JSON.stringify({ ...valid, oid: "someone-else" })).toString("base64url")}.${good.split(".")[2]}`,
    "alg none": `Bearer ${unsignedHeader}.${payload}.`,
    expired: `Bearer ${await sign({ ...valid, iat: now - 7200, nbf: now - 7200, exp: now - 3600 })}`,
    "not yet valid": `Bearer ${await sign({ ...valid, nbf: now + 3600, exp: now + 7200 })}`,
    "wrong audience": `Bearer ${await sign({ ...valid, aud: "api://someone-else" })}`,
    "wrong issuer": `Bearer ${await sign({ ...valid, iss: "https://evil.example.com" })}`,
    "no expiry": `Bearer ${await sign({ iss: ISSUER, aud: AUDIENCE, iat: now })}`,
  };
}
