import { createHash } from "node:crypto";
import type { ImageOwner } from "./image-builder.js";

const short = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8);

function accountSlug(accountName: string): string {
  return (
    accountName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "account"
  );
}

/**
 * The repository of an image: `<account>-<hash of its data partition>/<image name>`. The hash
 * keeps accounts of the same name in other resource groups apart, and each life of an account
 * apart from the next: a new account of a deleted one's name gets repositories of its own.
 * (Accounts made before incarnations have their path as their partition: their names are as before.)
 */
export function registryRepositoryOf(owner: ImageOwner, imageName: string): string {
  return `${accountSlug(owner.accountName)}-${short(owner.partition)}/${imageName}`;
}

/**
 * Every repository prefix an account's incarnation may have images under: its own, and the one
 * named by the account's path that images built before repositories were named by incarnation
 * have. Only images of this account's lives are there, never another account's.
 */
export function repositoryPrefixesOf(owner: ImageOwner): string[] {
  const slug = accountSlug(owner.accountName);
  return [...new Set([`${slug}-${short(owner.partition)}/`, `${slug}-${short(owner.accountPath)}/`])];
}

/** The directory (under the builder's contexts/) that holds an incarnation's Dockerfile contexts. */
export function contextGroupOf(owner: ImageOwner): string {
  return short(owner.partition);
}
