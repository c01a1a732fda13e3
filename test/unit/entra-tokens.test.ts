import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from "jose";
import { createTokenValidator } from "../../shared/auth/token-validator.js";
import { loadConfig } from "../../shared/config.js";

/**
 * Access tokens shaped as Entra ID issues them (claims as its documentation lists them for v1
 * and v2 tokens), signed by a test key served as a JWKS: the validator must take what a real
 * deployment's callers send, and nothing of another tenant or audience.
 */
const TENANT = randomUUID();
const CLIENT_ID = randomUUID();
const APP_ID_URI = "api://model-management";
const V1_ISSUER = `https://sts.windows.net/${TENANT}/`;
const V2_ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

let jwks: Server;
let jwksUri: string;
let sign: (claims: JWTPayload) => Promise<string>;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" };
  jwks = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  const address = jwks.address();
  jwksUri = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/discovery/v2.0/keys`;
  sign = (claims) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iat: now, nbf: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid, x5t: kid })
      .sign(privateKey);
  };
});

afterAll(() => {
  jwks?.close();
});

/** A user's v1 access token for the API's App ID URI (an app registration without requestedAccessTokenVersion). */
const v1 = (overrides: JWTPayload = {}): JWTPayload => ({
  aud: APP_ID_URI,
  iss: V1_ISSUER,
  ver: "1.0",
  tid: TENANT,
  oid: "11111111-1111-1111-1111-111111111111",
  sub: "v1-pairwise-subject",
  appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", // the Azure CLI
  appidacr: "0",
  scp: "user_impersonation",
  unique_name: "ada@contoso.com",
  upn: "ada@contoso.com",
  name: "Ada Lovelace",
  amr: ["pwd"],
  idp: `https://sts.windows.net/${TENANT}/`,
  ...overrides,
});

/** A user's v2 access token: the client id as audience (requestedAccessTokenVersion: 2). */
const v2 = (overrides: JWTPayload = {}): JWTPayload => ({
  aud: CLIENT_ID,
  iss: V2_ISSUER,
  ver: "2.0",
  tid: TENANT,
  oid: "22222222-2222-2222-2222-222222222222",
  sub: "v2-pairwise-subject",
  azp: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  azpacr: "0",
  scp: "user_impersonation",
  preferred_username: "grace@contoso.com",
  name: "Grace Hopper",
  ...overrides,
});

/** The validator as the app builds it from its settings (what the Bicep writes). */
function validatorFor(settings: Record<string, string>) {
  const config = loadConfig({
    COSMOS_ENDPOINT: "https://example.documents.azure.com:443/",
    AzureWebJobsStorage: "UseDevelopmentStorage=true",
    AUTH_ISSUER: `${V2_ISSUER},${V1_ISSUER}`,
    AUTH_AUDIENCE: `${APP_ID_URI},${CLIENT_ID}`,
    AUTH_JWKS_URI: jwksUri,
    ...settings,
  });
  return createTokenValidator(config.auth);
}

const bearer = async (claims: JWTPayload) => `Bearer ${await sign(claims)}`;

describe("Entra ID access tokens", () => {
  it("takes v1 tokens (App ID URI) and v2 tokens (client id) of the tenant, the principal being the oid", async () => {
    const validate = validatorFor({});
    expect(await validate(await bearer(v1()))).toEqual({ id: "11111111-1111-1111-1111-111111111111", name: "Ada Lovelace" });
    expect(await validate(await bearer(v2()))).toEqual({ id: "22222222-2222-2222-2222-222222222222", name: "Grace Hopper" });
    // A service principal's token (client credentials): an oid, no name, no scp but roles.
    const app = v2({
      oid: "33333333-3333-3333-3333-333333333333",
      name: undefined,
      preferred_username: undefined,
      scp: undefined,
      roles: ["Models.Write"],
    });
    expect(await validate(await bearer(app))).toEqual({ id: "33333333-3333-3333-3333-333333333333", name: undefined });
  });

  it("refuses another tenant's tokens, other audiences, and ARM tokens unless they are allowed", async () => {
    const validate = validatorFor({});
    const other = randomUUID();
    await expect(validate(await bearer(v1({ iss: `https://sts.windows.net/${other}/`, tid: other })))).rejects.toMatchObject({
      statusCode: 401,
      message: "The token was issued by an untrusted issuer.",
    });
    await expect(validate(await bearer(v2({ aud: randomUUID() })))).rejects.toMatchObject({
      message: "The token was issued for another audience.",
    });
    const arm = v1({ aud: "https://management.core.windows.net/", scp: "user_impersonation" });
    await expect(validate(await bearer(arm))).rejects.toMatchObject({ message: "The token was issued for another audience." });
    // As the 2017 clients sent them: an ARM token from `az account get-access-token`, when the app allows it.
    const withArm = validatorFor({ AUTH_ACCEPT_ARM_TOKENS: "true" });
    expect(await withArm(await bearer(arm))).toMatchObject({ id: "11111111-1111-1111-1111-111111111111" });
    expect(await withArm(await bearer(v1({ aud: "https://management.azure.com/" })))).toMatchObject({ name: "Ada Lovelace" });
  });
});
