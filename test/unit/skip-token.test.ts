import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { skipTokenKeyFrom, unwrapSkipToken, wrapSkipToken } from "../../shared/store/pagination.js";
import { ApiError } from "../../shared/errors.js";

describe("$skipToken", () => {
  const key = skipTokenKeyFrom("c2VydmVyIHNlY3JldCBvZiB0aGlzIHRlc3Q=");
  const continuation = '{"token":"+RID:abc#RT:1","range":{"min":"","max":"FF"}}';
  const list = "subscriptions/s/resourceGroups/g/accounts/a|models|[null,null]";
  const token = wrapSkipToken(key, continuation, list);

  function refusal(attempt: () => unknown): ApiError {
    try {
      attempt();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      return err as ApiError;
    }
    throw new Error("the token was accepted");
  }

  it("round-trips the continuation for the list that issued it, and is URL-safe", () => {
    expect(unwrapSkipToken(key, token, list)).toBe(continuation);
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it("refuses a token altered anywhere or truncated, with a 400", () => {
    const attempts = [token.slice(0, -1), `x${token}`, token.replace(".", ".x"), "", "a.b", `${token}.extra`];
    for (let i = 0; i < token.length; i += 7) attempts.push(token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1));
    for (const bad of attempts) {
      const err = refusal(() => unwrapSkipToken(key, bad, list));
      expect(err.statusCode, bad).toBe(400);
      expect(err.code).toBe("InvalidSkipToken");
    }
  });

  it("refuses a token of another list or another account", () => {
    expect(refusal(() => unwrapSkipToken(key, token, 'subscriptions/s/resourceGroups/g/accounts/a|models|["name",null]')).message).toMatch(
      /another list/,
    );
    expect(refusal(() => unwrapSkipToken(key, token, "subscriptions/s/resourceGroups/g/accounts/b|models|[null,null]")).statusCode).toBe(
      400,
    );
  });

  it("refuses a token forged without the server's secret: an unkeyed digest, or another server's key", () => {
    const body = Buffer.from(
      JSON.stringify({ c: continuation, q: "subscriptions/s/resourceGroups/g/accounts/b|models|[null,null]" }),
    ).toString("base64url");
    const unkeyed = `${body}.${createHash("sha256").update(body).digest("base64url").slice(0, 22)}`;
    const otherServer = wrapSkipToken(skipTokenKeyFrom("YW5vdGhlciBzZXJ2ZXIncyBzZWNyZXQ="), continuation, list);
    for (const forged of [unkeyed, otherServer]) expect(refusal(() => unwrapSkipToken(key, forged, list)).code).toBe("InvalidSkipToken");
    // The same secret gives the same key: every instance of the app accepts the others' tokens.
    expect(unwrapSkipToken(skipTokenKeyFrom("c2VydmVyIHNlY3JldCBvZiB0aGlzIHRlc3Q="), token, list)).toBe(continuation);
  });
});
