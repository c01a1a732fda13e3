import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError } from "./errors.js";

/** How `mm` signs in: the local stack's issuer, or Entra ID through @azure/identity. */
export type AuthSettings =
  { kind: "local"; dataDir: string } | { kind: "azure"; scope: string; tenantId?: string; method: "cli" | "device-code" | "default" };

/** Where uploads go: Azurite's development account, or a storage account reached with Entra ID. */
export interface StorageSettings {
  blobEndpoint: string;
  auth: "azurite" | "azure";
}

/** What `mm login` saves, and `mm account set` changes. */
export interface Profile {
  endpoint: string;
  account?: string;
  auth: AuthSettings;
  storage?: StorageSettings;
}

/** `$MM_CONFIG_DIR`, else `~/.config/mm`: the profile, and a device-code token while it is valid. */
export function configDir(): string {
  return process.env.MM_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "mm");
}

const profilePath = (): string => join(configDir(), "profile.json");

export function loadProfile(): Profile | undefined {
  const path = profilePath();
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Profile;
  } catch {
    throw new CliError(`${path} is not valid JSON; run mm login again (or delete it).`);
  }
}

/** Saved readable and writable by the user only (0600): it names endpoints, tenant and account, never a token. */
export function saveProfile(profile: Profile): void {
  writePrivate(profilePath(), JSON.stringify(profile, null, 2) + "\n");
}

export function forgetProfile(): void {
  rmSync(profilePath(), { force: true });
  rmSync(join(configDir(), "token.json"), { force: true });
}

export function writePrivate(path: string, text: string): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The local stack's data directory: `--data-dir`, `$DATA_DIR` as `npm start` reads it, else ./.data. */
export function localDataDir(option?: string): string {
  return resolve(option ?? process.env.DATA_DIR ?? ".data");
}

/** What the local stack wrote for its clients when it started (devhost/stack.ts). */
interface LocalEndpoints {
  api: string;
  blob: string;
  scoring: string;
  account: string;
}

export function readLocalEndpoints(dataDir: string): LocalEndpoints {
  const path = join(dataDir, "endpoints.json");
  if (!existsSync(path)) {
    throw new CliError(
      `No local stack has run with data in ${dataDir}: start one with \`npm start\` (or point --data-dir / DATA_DIR at its data).`,
    );
  }
  return JSON.parse(readFileSync(path, "utf8")) as LocalEndpoints;
}

/** The profile in force: the saved one, or the local stack's when nobody logged in. */
export function currentProfile(dataDirOption?: string): Profile {
  const saved = loadProfile();
  if (saved) return saved;
  const dataDir = localDataDir(dataDirOption);
  const local = readLocalEndpoints(dataDir);
  return {
    endpoint: local.api,
    account: local.account,
    auth: { kind: "local", dataDir },
    storage: { blobEndpoint: local.blob, auth: "azurite" },
  };
}
