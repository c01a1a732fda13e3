import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { Errors } from "../errors.js";

export interface Principal {
  /** The token's `oid` (Entra ID object id), else its `sub`. */
  id: string;
  name: string | undefined;
}

interface TokenValidatorOptions {
  /**
   * The issuers trusted, each exactly as tokens name it. Entra ID names a tenant two ways: v1
   * tokens `https://sts.windows.net/<tenant>/`, v2 tokens `https://login.microsoftonline.com/<tenant>/v2.0`
   * (which one an API gets is its app registration's `requestedAccessTokenVersion`, and tokens
   * for Azure Resource Manager are v1); both sign with the same keys.
   */
  issuer: string | string[];
  /** The audiences accepted: the API's App ID URI (v1 tokens) and its client id (v2 tokens), say. */
  audience: string | string[];
  jwksUri: string;
}

export type TokenValidator = (authorization: string | null) => Promise<Principal>;

/** Asymmetric algorithms only: a token signed with a shared secret or "none" is refused. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

/**
 * Checks `Authorization: Bearer <JWT>`: signature against the issuer's JWKS (fetched and cached
 * by jose, refreshed when an unknown key id appears), issuer, audience, expiry and not-before.
 * Any failure is a 401 with `WWW-Authenticate: Bearer`.
 */
export function createTokenValidator(options: TokenValidatorOptions): TokenValidator {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  const verified = new VerifiedTokens();
  return async (authorization) => {
    const cached = authorization ? verified.get(authorization) : undefined;
    if (cached) return cached;
    if (!authorization) throw Errors.unauthenticated("An Authorization header with a bearer token is required.", false);
    const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
    if (!match) throw Errors.unauthenticated("The Authorization header must be 'Bearer <JWT>'.");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: 30,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      if (isKeySetUnavailable(err)) throw Errors.authUnavailable();
      throw Errors.unauthenticated(describeTokenError(err));
    }
    const id = typeof payload.oid === "string" && payload.oid ? payload.oid : payload.sub;
    if (!id) throw Errors.unauthenticated("The token names no principal (no oid or sub claim).");
    const name =
      typeof payload.name === "string"
        ? payload.name
        : typeof payload.preferred_username === "string"
          ? payload.preferred_username
          : undefined;
    const principal = { id, name };
    verified.set(authorization, principal, Math.min(Number(payload.exp) * 1000, Date.now() + VERIFIED_FOR_MS));
    return principal;
  };
}

/** A verified token is trusted again without its signature checked for this long (at most until it expires). */
const VERIFIED_FOR_MS = 60_000;
const MAX_VERIFIED = 10_000;

/**
 * Tokens already verified, by their exact text (a different byte is a different token), until
 * they expire or a minute passes: a client sends the same token with every call, and an RS256
 * check costs more than the rest of a GET. Bounded: the oldest entries go first.
 */
class VerifiedTokens {
  #entries = new Map<string, { principal: Principal; until: number }>();

  get(authorization: string): Principal | undefined {
    const entry = this.#entries.get(authorization);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.#entries.delete(authorization);
      return undefined;
    }
    return entry.principal;
  }

  set(authorization: string, principal: Principal, until: number): void {
    if (this.#entries.size >= MAX_VERIFIED) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(authorization, { principal, until });
  }
}

function describeTokenError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "The token has expired.";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return "The token is not valid yet (nbf).";
    if (err.claim === "aud") return "The token was issued for another audience.";
    if (err.claim === "iss") return "The token was issued by an untrusted issuer.";
    return `The token's ${err.claim} claim is not valid.`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  if (err instanceof errors.JWKSNoMatchingKey) return "The token was signed with an unknown key.";
  if (err instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not allowed.";
  return "The token is malformed.";
}

/** The issuer's keys could not be had: the server's problem, not the token's. */
function isKeySetUnavailable(err: unknown): boolean {
  return (
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    (err instanceof Error && err.name === "TypeError" && /fetch/i.test(err.message))
  );
}
