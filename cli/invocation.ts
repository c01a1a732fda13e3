import { accessSync, constants, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { ResolvedProfile } from "./settings.js";

/** A shell word: the text in single quotes. */
export const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * How to run this CLI again, against the same service, from any folder: `mm` when the `mm` on
 * PATH is this very program (after `npm link` or a global install), else `node <its path>`;
 * then the data directory or endpoint it was given, when the saved profile does not name them.
 * What `mm` prints for people to paste (the sample curl of `service usage`) runs as printed.
 */
export function invocation(resolved: ResolvedProfile, argv1 = process.argv[1] ?? ""): string {
  const self = safeRealpath(argv1);
  const onPath = findOnPath("mm");
  const program = self && onPath && safeRealpath(onPath) === self ? "mm" : `node ${shellQuote(self ?? argv1)}`;
  const { profile, source } = resolved;
  if (source.startsWith("--endpoint") || source.startsWith("MM_ENDPOINT")) return `${program} --endpoint ${shellQuote(profile.endpoint)}`;
  if (profile.auth.kind === "local" && !source.startsWith("the profile"))
    return `${program} --data-dir ${shellQuote(profile.auth.dataDir)}`;
  return program;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
