import { describe, expect, it } from "vitest";
import { unwrapSkipToken, wrapSkipToken } from "../../shared/store/pagination.js";
import { ApiError } from "../../shared/errors.js";

describe("$skipToken", () => {
  const token = wrapSkipToken('{"token":"+RID:abc#RT:1","range":{"min":"","max":"FF"}}', "models|[null,null]");

  it("round-trips the continuation for the query that issued it", () => {
    expect(unwrapSkipToken(token, "models|[null,null]")).toBe('{"token":"+RID:abc#RT:1","range":{"min":"","max":"FF"}}');
  });

  it("is URL-safe", () => {
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it("refuses a token altered anywhere, truncated, or issued for other filters, with a 400", () => {
    const attempts = [token.slice(0, -1), `x${token}`, token.replace(".", ".x"), "", "a.b", `${token}.extra`];
    for (let i = 0; i < token.length; i += 7) attempts.push(token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1));
    for (const bad of attempts) {
      expect(() => unwrapSkipToken(bad, "models|[null,null]"), bad).toThrow(ApiError);
    }
    try {
      unwrapSkipToken(token, 'models|["name",null]');
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).statusCode).toBe(400);
      expect((err as ApiError).code).toBe("InvalidSkipToken");
    }
  });
});
