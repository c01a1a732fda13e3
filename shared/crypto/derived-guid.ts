import { createHash } from "node:crypto";

/**
 * A GUID derived from a text (a name-based, version 5 style GUID from SHA-256): Azure names some
 * things by GUID (role assignments, permission scopes), and ours must come out the same on every run.
 */
export function derivedGuid(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  const variant = ((parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
