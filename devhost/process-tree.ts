import { readdirSync, readFileSync } from "node:fs";

/** A process as /proc shows it; its environment is read only when asked for. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
  environ(): string;
}

/**
 * The fields of /proc/<pid>/stat after the command name (field 3, the state, comes first); the
 * name is in parentheses and may hold any character, ") " included, so it ends at the last ")".
 * Throws when the process is gone.
 */
export function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Every process on the machine (Linux); those that end while being read are left out. */
export function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(statFields(p)[1]);
      const cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ");
      const environ = () => {
        try {
          return readFileSync(`/proc/${p}/environ`, "utf8");
        } catch {
          return ""; // gone meanwhile, or not ours to read
        }
      };
      found.push({ pid: Number(p), ppid, cmdline, environ });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes that match (`roots`), and all their descendants. */
export function processTree(matches: (p: ProcessInfo) => boolean): { roots: number[]; descendants: number[] } {
  const all = processes();
  const roots = new Set(all.filter(matches).map((p) => p.pid));
  const parentOf = new Map(all.map((p) => [p.pid, p.ppid]));
  const under = (pid: number): boolean => {
    for (let at: number | undefined = pid; at && at > 1; at = parentOf.get(at)) if (roots.has(at)) return true;
    return false;
  };
  return { roots: [...roots], descendants: all.map((p) => p.pid).filter((pid) => !roots.has(pid) && under(pid)) };
}
