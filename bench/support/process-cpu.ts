import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS = 100;

interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      found.push({ pid: Number(p), ppid, cmdline: readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ") });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes whose command line matches (`roots`), and all their descendants. */
export function processTree(matches: (cmdline: string) => boolean): { roots: number[]; descendants: number[] } {
  const all = processes();
  const roots = new Set(all.filter((p) => matches(p.cmdline)).map((p) => p.pid));
  const parentOf = new Map(all.map((p) => [p.pid, p.ppid]));
  const under = (pid: number): boolean => {
    for (let at: number | undefined = pid; at && at > 1; at = parentOf.get(at)) if (roots.has(at)) return true;
    return false;
  };
  return { roots: [...roots], descendants: all.map((p) => p.pid).filter((pid) => !roots.has(pid) && under(pid)) };
}

/** CPU seconds (user and system) the processes have used so far; ones that are gone count nothing. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / TICKS;
}
