import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether a presented secret (a key, a token) is the expected one, in time that tells nothing of
 * either: both are hashed first, so lengths do not show either. Nothing presented, or nothing
 * expected, is no match.
 */
export function secretsEqual(presented: string | null | undefined, expected: string | undefined): boolean {
  if (!presented || !expected) return false;
  return timingSafeEqual(createHash("sha256").update(presented).digest(), createHash("sha256").update(expected).digest());
}
