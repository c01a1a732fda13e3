import { randomUUID } from "node:crypto";
import type { Principal } from "./auth/token-validator.js";
import { allows, type Role } from "./auth/roles.js";
import { accountPath, type AccountRef } from "./account-ref.js";
import { Errors } from "./errors.js";
import type { AccountRequest } from "./schemas/accounts.js";
import { ACCOUNT_DOCUMENT_ID, type StoredAccount } from "./store/account-repository.js";

/** The accounts as the account rules keep them; the Cosmos AccountRepository is one implementation. */
export interface AccountStore {
  get(path: string): Promise<StoredAccount | undefined>;
  /** Creates the account; undefined when one exists at that path. */
  create(doc: AccountDocument): Promise<StoredAccount | undefined>;
  /** Replaces the account if its ETag is still `etag`; undefined when it changed. */
  replace(doc: AccountDocument, etag: string): Promise<StoredAccount | undefined>;
  /** Marks the account Deleting and writes its purge, together; undefined when the account changed meanwhile. */
  startDeletion(account: StoredAccount, purge: OperationDocument): Promise<StoredAccount | undefined>;
}
import type { AccountDocument, OperationDocument, RoleAssignment } from "./store/documents.js";
import { Operations } from "./operations/operations.js";

const MAX_ATTEMPTS = 20;

/** Creates an account owned by its creator, or updates one the caller may write. */
export async function putAccount(
  accounts: AccountStore,
  ref: AccountRef,
  principal: Principal,
  request: AccountRequest,
): Promise<{ account: AccountDocument; created: boolean }> {
  const pk = accountPath(ref);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const existing = await accounts.get(pk);
    if (!existing) {
      const now = new Date().toISOString();
      const created = await accounts.create(newAccount(ref, principal.id, request, now));
      if (created) return { account: created, created: true };
      continue; // someone created it meanwhile: look again
    }
    const role = roleOf(existing, principal.id);
    if (!role) throw Errors.accountExists(pk);
    if (existing.state !== "Ready") throw Errors.accountBeingDeleted(pk);
    if (!allows(role, "write")) throw Errors.forbidden(`Updating ${pk} needs the Contributor role; you are ${role}.`);
    const updated = await accounts.replace(
      { ...existing, location: request.location ?? existing.location, description: request.description, tags: request.tags ?? {} },
      existing._etag,
    );
    if (updated) return { account: updated, created: false };
  }
  throw Errors.tooMuchContention(pk);
}

/** Makes sure an account exists (the local default account), owned by `ownerId` when created. */
export async function ensureAccount(accounts: AccountStore, path: string, ref: AccountRef, ownerId: string): Promise<void> {
  if (await accounts.get(path)) return;
  await accounts.create(
    newAccount(ref, ownerId, { location: "local", description: "The default account of the local stack." }, new Date().toISOString()),
  );
}

function newAccount(ref: AccountRef, ownerId: string, request: AccountRequest, now: string): AccountDocument {
  return {
    id: ACCOUNT_DOCUMENT_ID,
    pk: accountPath(ref),
    kind: "account",
    name: ref.accountName,
    subscriptionId: ref.subscriptionId,
    resourceGroupName: ref.resourceGroupName,
    location: request.location ?? "local",
    ...(request.description !== undefined ? { description: request.description } : {}),
    tags: request.tags ?? {},
    createdAt: now,
    createdBy: ownerId,
    state: "Ready",
    incarnation: randomUUID(),
    roleAssignments: [{ principalId: ownerId, role: "Owner", createdAt: now }],
    memberIds: [ownerId],
  };
}

export function roleOf(account: AccountDocument, principalId: string): Role | undefined {
  return account.roleAssignments.find((r) => r.principalId === principalId)?.role;
}

/** Gives a principal a role (or changes it). The last Owner cannot be demoted. */
export async function setRole(
  accounts: AccountStore,
  account: StoredAccount,
  principalId: string,
  role: Role,
): Promise<{ assignment: RoleAssignment; created: boolean }> {
  return updateRoles(accounts, account, (assignments) => {
    const current = assignments.find((r) => r.principalId === principalId);
    if (current?.role === "Owner" && role !== "Owner") ensureAnotherOwner(assignments, principalId);
    const assignment: RoleAssignment = { principalId, role, createdAt: current?.createdAt ?? new Date().toISOString() };
    return {
      assignments: [...assignments.filter((r) => r.principalId !== principalId), assignment],
      result: { assignment, created: !current },
    };
  });
}

/** Removes a principal's role; false when it had none. The last Owner cannot be removed. */
export async function removeRole(accounts: AccountStore, account: StoredAccount, principalId: string): Promise<boolean> {
  return updateRoles(accounts, account, (assignments) => {
    const current = assignments.find((r) => r.principalId === principalId);
    if (!current) return { assignments, result: false };
    if (current.role === "Owner") ensureAnotherOwner(assignments, principalId);
    return { assignments: assignments.filter((r) => r.principalId !== principalId), result: true };
  });
}

function ensureAnotherOwner(assignments: RoleAssignment[], principalId: string): void {
  if (!assignments.some((r) => r.role === "Owner" && r.principalId !== principalId)) throw Errors.lastOwner(principalId);
}

async function updateRoles<R>(
  accounts: AccountStore,
  first: StoredAccount,
  change: (assignments: RoleAssignment[]) => { assignments: RoleAssignment[]; result: R },
): Promise<R> {
  let account: StoredAccount | undefined = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && account; attempt++) {
    const { assignments, result } = change(account.roleAssignments);
    if (assignments === account.roleAssignments) return result;
    const sorted = [...assignments].sort((a, b) => a.principalId.localeCompare(b.principalId));
    const updated = await accounts.replace(
      { ...account, roleAssignments: sorted, memberIds: sorted.map((r) => r.principalId) },
      account._etag,
    );
    if (updated) return result;
    account = await accounts.get(account.pk);
  }
  if (!account) throw Errors.accountNotFound(first.pk);
  throw Errors.tooMuchContention(first.pk);
}

/**
 * Deletes an account and everything in it, as one operation that survives a crash: the account is
 * marked Deleting (it disappears for every caller) together with the Purge operation that deletes
 * its images, blobs and documents, its own document last (storage-purge.ts). Returns that
 * operation, for the caller to run at once; should it be cut short, the sweeper finishes it, and
 * a new DELETE takes it up again. A write that passed its check before the mark lands in the
 * deleted incarnation's partition, which a new account of the same name never reads, and which
 * the purge sweeps once more when such writes have ended.
 */
export async function deleteAccount(
  accounts: AccountStore,
  operations: { get(pk: string, id: string): Promise<OperationDocument | undefined> },
  account: StoredAccount,
  serviceCount: number,
): Promise<OperationDocument> {
  if (serviceCount > 0) throw Errors.accountHasServices(account.pk, serviceCount);
  let current: StoredAccount | undefined = account;
  for (let attempt = 0; current; attempt++) {
    if (current.state === "Deleting" && current.purgeOperationId) {
      const purge = await operations.get(current.pk, current.purgeOperationId);
      if (purge && purge.state !== "Failed" && purge.state !== "Cancelled") return purge;
    }
    // Not started yet, or its purge gave up (past its deadline): a new purge.
    const purge = Operations.create(
      "Purge",
      current.pk,
      { id: current.pk, path: `/api/${current.pk}` },
      {
        purge: {
          account: { path: current.pk, createdAt: current.createdAt, ...(current.incarnation ? { incarnation: current.incarnation } : {}) },
        },
      },
    );
    if (await accounts.startDeletion(current, purge)) return purge;
    // The account changed under us (a role assignment): read it again and retry.
    if (attempt >= MAX_ATTEMPTS) throw Errors.tooMuchContention(account.pk);
    current = await accounts.get(account.pk);
  }
  throw Errors.accountNotFound(account.pk);
}
