import type { Command } from "commander";
import type { BlobServiceClient } from "@azure/storage-blob";
import { ModelManagementApi } from "./api.js";
import { tokenSource } from "./auth.js";
import { CliError, EXIT } from "./errors.js";
import { OUTPUT_FORMATS, render, type OutputFormat, type TableView } from "./output.js";
import { resolveProfile, type Profile } from "./settings.js";
import { blobService } from "./upload.js";
import { invocation } from "./invocation.js";

interface GlobalOptions {
  endpoint?: string;
  account?: string;
  output?: string;
  query?: string;
  verbose?: boolean;
  dataDir?: string;
}

/** What every command works with: the API of the account in force, output, and uploads. */
export interface Context {
  profile: Profile;
  /** How to run mm again against the same service, from any folder (for commands printed to paste). */
  invocation: string;
  api: ModelManagementApi;
  accountPath: string;
  print(data: unknown, view?: TableView): void;
  /** For commands whose answer is for reading (usage, logs): the text, unless -o or --query asked for data. */
  printText(text: string, data: unknown): void;
  /** A scoring result: a string as it is (what `az ml service run` printed), anything else as data. */
  printResult(result: unknown): void;
  /** Progress and notes for people: stderr, so stdout stays the result. */
  note(line: string): void;
  verbose(line: string): void;
  blobs(): BlobServiceClient;
}

const ACCOUNT_PATH = /^subscriptions\/[^/]+\/resourceGroups\/[^/]+\/accounts\/[^/]+$/;

/** `subscriptions/<s>/resourceGroups/<rg>/accounts/<a>`, or the short `<s>/<rg>/<a>`. */
export function normalizeAccount(value: string): string {
  const trimmed = value.replace(/^\/+|\/+$/g, "");
  if (ACCOUNT_PATH.test(trimmed)) return trimmed;
  const parts = trimmed.split("/");
  if (parts.length === 3 && parts.every(Boolean)) return `subscriptions/${parts[0]}/resourceGroups/${parts[1]}/accounts/${parts[2]}`;
  throw new CliError(
    `--account "${value}" is not an account: give subscriptions/<id>/resourceGroups/<group>/accounts/<name>, or <id>/<group>/<name>.`,
    EXIT.usage,
  );
}

export function contextOf(command: Command): Context {
  const g = command.optsWithGlobals<GlobalOptions>();
  const output = (g.output ?? process.env.MM_OUTPUT ?? "json") as OutputFormat;
  if (!OUTPUT_FORMATS.includes(output)) throw new CliError(`--output must be one of ${OUTPUT_FORMATS.join(", ")}.`, EXIT.usage);
  const resolved = resolveProfile({ endpoint: g.endpoint, dataDir: g.dataDir });
  const { profile, source } = resolved;
  const endpoint = profile.endpoint;
  const accountValue = g.account ?? process.env.MM_ACCOUNT ?? profile.account;
  if (!accountValue) throw new CliError("No account: pass --account, or choose one with mm account set.", EXIT.usage);
  const accountPath = normalizeAccount(accountValue);
  const verbose = (line: string): void => {
    if (g.verbose) process.stderr.write(`[mm] ${line}\n`);
  };
  const api = new ModelManagementApi(endpoint, accountPath, tokenSource(profile.auth), verbose, source);
  return {
    profile,
    invocation: invocation(resolved),
    api,
    accountPath,
    print: (data, view) => process.stdout.write(render(data, { output, query: g.query }, view)),
    printText: (text, data) =>
      process.stdout.write(g.output || g.query ? render(data, { output, query: g.query }) : text.endsWith("\n") ? text : `${text}\n`),
    printResult: (result) =>
      process.stdout.write(
        typeof result === "string" && !g.output && !g.query ? `${result}\n` : render(result, { output, query: g.query }),
      ),
    note: (line) => process.stderr.write(`${line}\n`),
    verbose,
    blobs: () => {
      if (!profile.storage)
        throw new CliError(
          "No storage account to upload to: run mm login with --storage <blob endpoint>, or register a URL with --url.",
          EXIT.usage,
        );
      return blobService(profile.storage, profile.auth);
    },
  };
}
