/** Roles on an account, from least to most privileged. */
export const ROLES = ["Reader", "Contributor", "Owner"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a request needs: `read` (Readers may GET), `write` (Contributors may also create,
 * update, delete and read keys), `manage` (Owners may also manage role assignments and delete
 * the account).
 */
export type Access = "read" | "write" | "manage";

const needed: Record<Access, Role> = { read: "Reader", write: "Contributor", manage: "Owner" };

export function allows(role: Role, access: Access): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed[access]);
}

export function describeAccess(access: Access): string {
  return needed[access];
}
