import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/**
 * Where `npm start` of this CLI's own project keeps its data by default (`<project>/.data`): so
 * that `mm`, linked onto PATH with `npm link`, finds that stack from any folder.
 */
export const PROJECT_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", ".data");

/**
 * The local stack's data directory when nothing names one: ./.data where a stack has run (the
 * project's folder, or one a user started with `DATA_DIR=./.data`), else the project's own.
 */
export function defaultDataDir(projectDataDir = PROJECT_DATA_DIR): { dataDir: string; source: string } {
  const here = resolve(".data");
  if (existsSync(join(here, "endpoints.json")) || here === projectDataDir)
    return { dataDir: here, source: `./.data (the local stack's data in ${resolve(".")})` };
  return { dataDir: projectDataDir, source: `${projectDataDir} (the data of this project's npm start)` };
}

/** The local stack's data directory: `--data-dir`, `$DATA_DIR` as `npm start` reads it, else the default one. */
export function localDataDir(option?: string): string {
  const named = option || process.env.DATA_DIR;
  return named ? resolve(named) : defaultDataDir().dataDir;
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

/** The profile in force, and where its endpoint came from (a connection error says so). */
export interface ResolvedProfile {
  profile: Profile;
  source: string;
}

/**
 * Which endpoint and sign-in `mm` uses. Explicit flags beat environment variables, which beat the
 * saved profile, which beats the local stack: `--endpoint` / `MM_ENDPOINT` choose the endpoint;
 * `--data-dir` / `DATA_DIR` choose a local stack (its endpoints and issuer); else the profile
 * `mm login` saved; else the default local stack (`defaultDataDir`). The account a profile chose
 * (`mm account set`) stays in force for the same local stack.
 */
export function resolveProfile(
  flags: { endpoint?: string; dataDir?: string },
  env: NodeJS.ProcessEnv = process.env,
  projectDataDir = PROJECT_DATA_DIR,
): ResolvedProfile {
  const saved = loadProfile();
  const local = (dataDir: string, source: string): ResolvedProfile => {
    const endpoints = readLocalEndpoints(dataDir);
    const chosen = saved?.auth.kind === "local" && resolve(saved.auth.dataDir) === dataDir ? saved.account : undefined;
    return {
      profile: {
        endpoint: endpoints.api,
        account: chosen ?? endpoints.account,
        auth: { kind: "local", dataDir },
        storage: { blobEndpoint: endpoints.blob, auth: "azurite" },
      },
      source,
    };
  };
  const base = flags.dataDir
    ? local(resolve(flags.dataDir), `--data-dir ${flags.dataDir}`)
    : env.DATA_DIR
      ? local(resolve(env.DATA_DIR), `DATA_DIR=${env.DATA_DIR}`)
      : saved
        ? {
            profile: saved,
            source: `the profile ${profilePath()} that mm login saved (mm logout forgets it; --endpoint or --data-dir override it)`,
          }
        : ((fallback) => local(fallback.dataDir, fallback.source))(defaultDataDir(projectDataDir));
  const endpoint = flags.endpoint ?? env.MM_ENDPOINT;
  if (!endpoint) return base;
  return {
    profile: { ...base.profile, endpoint: apiBase(endpoint) },
    source: flags.endpoint ? `--endpoint ${flags.endpoint}` : `MM_ENDPOINT=${endpoint}`,
  };
}

/** The API's base URL from what a user gives: the host (as 2017's base URLs were) or the `/api` base itself. */
export function apiBase(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new CliError(
      `--endpoint "${endpoint}" is not a URL: give the service's address, e.g. http://127.0.0.1:7071 or https://<app>.azurewebsites.net/api.`,
      2,
    );
  }
  return url.pathname === "/" || url.pathname === "" ? `${url.origin}/api` : trimmed;
}
