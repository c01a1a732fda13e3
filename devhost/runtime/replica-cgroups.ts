import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What one replica may use: CPU (millicores of one core), processes and threads, memory. */
export interface ReplicaLimits {
  cpuMillicores?: number;
  maxProcesses: number;
  memoryBytes?: number;
}

/** A replica's control group: the files a process writes its pid to, to join it before it execs the replica. */
export interface ReplicaCgroup {
  procsFiles: string[];
  /** Removes the group once its processes are gone; a group still busy stays (the next start cleans up). */
  remove(): void;
}

/**
 * Per-replica CPU, process and memory limits through Linux control groups, where the runtime may
 * make them: the runtime runs as root, or was given a delegated cgroup v2 subtree. No library
 * does this for a plain process (bubblewrap leaves cgroups alone; systemd-run needs systemd), and
 * it is a few files: a group per replica under the runtime's own, with cpu.max / pids.max /
 * memory.max (v2) or cpu.cfs_quota_us / pids.max / memory.limit_in_bytes (v1 controllers).
 * A replica joins its group before it starts (a shell writes its pid, then execs), so nothing it
 * forks escapes.
 */
export interface Cgroups {
  kind: "cgroup2" | "cgroup1" | "none";
  /** Why replicas get no CPU and process limits, when they do not. */
  warning?: string;
  create(name: string, limits: ReplicaLimits): ReplicaCgroup | undefined;
  /** Removes the runtime's groups once its replicas are stopped (what is still busy, the next start removes). */
  close(): void;
}

const CPU_PERIOD_US = 100_000;

/**
 * Finds what the runtime may use, and makes its own group (`mm-runtime-<pid>`) under the group
 * it runs in (so that limits set on the runtime itself still hold for its replicas), removing
 * those earlier runtimes left.
 */
export function chooseCgroups(mountDir = "/sys/fs/cgroup", own = readText("/proc/self/cgroup") ?? ""): Cgroups {
  const root = `mm-runtime-${process.pid}`;
  const paths = ownPaths(own);
  const v2 = cgroup2(mountDir, paths.get("") ?? "/", root);
  if (v2) return v2;
  const v1 = cgroup1(mountDir, paths, root);
  if (v1) return v1;
  return {
    kind: "none",
    warning:
      "Replicas get no CPU or process limits: the runtime may not create control groups here (it needs root, or a delegated cgroup v2 subtree). Memory and open files are still limited (setrlimit).",
    create: () => undefined,
    close: () => undefined,
  };
}

/** The group this process is in, per controller (`""` for cgroup v2), from /proc/self/cgroup. */
function ownPaths(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const controller of m[1]!.split(",")) paths.set(controller, m[2]!);
  }
  return paths;
}

/** Removes the groups of runtimes that are gone (a group with processes stays). */
function removeStale(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => /^mm-runtime-\d+$/.test(n) && !alive(Number(n.slice("mm-runtime-".length))));
  } catch {
    return;
  }
  for (const name of names) removeGroupTree(join(parent, name));
}

/** Removes a runtime's group and its replicas' groups (those without processes). */
function removeGroupTree(group: string): void {
  try {
    for (const child of readdirSync(group, { withFileTypes: true })) if (child.isDirectory()) tryRmdir(join(group, child.name));
  } catch {
    return;
  }
  tryRmdir(group);
}

/** cgroup v2, unified at the mount point (or at `unified/` on a hybrid system) with the cpu, pids and memory controllers. */
function cgroup2(mountDir: string, ownPath: string, root: string): Cgroups | undefined {
  for (const dir of [mountDir, join(mountDir, "unified")].map((d) => join(d, ownPath))) {
    const controllers = readText(join(dir, "cgroup.controllers"))?.split(/\s+/) ?? [];
    if (!["cpu", "pids", "memory"].every((c) => controllers.includes(c))) continue;
    removeStale(dir);
    const base = join(dir, root);
    if (!tryMkdir(base)) continue;
    // Controllers reach a group's children only when its parent hands them down.
    if (
      !tryWrite(join(dir, "cgroup.subtree_control"), "+cpu +pids +memory") ||
      !tryWrite(join(base, "cgroup.subtree_control"), "+cpu +pids +memory")
    )
      continue;
    return {
      kind: "cgroup2",
      close: () => removeGroupTree(base),
      create: (name, limits) =>
        made([join(base, name)], ([group]) => {
          writeFileSync(join(group, "cpu.max"), limits.cpuMillicores ? `${quotaOf(limits.cpuMillicores)} ${CPU_PERIOD_US}` : "max");
          writeFileSync(join(group, "pids.max"), String(limits.maxProcesses));
          writeFileSync(join(group, "memory.max"), limits.memoryBytes ? String(limits.memoryBytes) : "max");
        }),
    };
  }
  return undefined;
}

/** cgroup v1: one hierarchy per controller (cpu, pids, memory), each writable. */
function cgroup1(mountDir: string, paths: Map<string, string>, root: string): Cgroups | undefined {
  const controllers = ["cpu", "pids", "memory"] as const;
  const parents = controllers.map((c) => join(mountDir, c, paths.get(c) ?? "/"));
  if (!parents.every((p) => existsSync(join(p, "cgroup.procs")))) return undefined;
  parents.forEach(removeStale);
  const bases = parents.map((p) => join(p, root));
  if (!bases.every(tryMkdir)) return undefined;
  return {
    kind: "cgroup1",
    close: () => bases.forEach(removeGroupTree),
    create: (name, limits) =>
      made(
        bases.map((b) => join(b, name)),
        ([cpu, pids, memory]) => {
          writeFileSync(join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
          writeFileSync(join(cpu, "cpu.cfs_quota_us"), limits.cpuMillicores ? String(quotaOf(limits.cpuMillicores)) : "-1");
          writeFileSync(join(pids, "pids.max"), String(limits.maxProcesses));
          writeFileSync(join(memory, "memory.limit_in_bytes"), limits.memoryBytes ? String(limits.memoryBytes) : "-1");
        },
      ),
  };
}

/** The CPU quota per period of a number of millicores (at least the kernel's minimum of 1 ms). */
function quotaOf(millicores: number): number {
  return Math.max(1000, Math.round((millicores / 1000) * CPU_PERIOD_US));
}

/**
 * Makes a replica's groups (one per hierarchy) and sets their limits; undefined (and nothing
 * left behind) when that fails, so a replica whose group cannot be made still runs, as the
 * runtime runs replicas where there are no control groups.
 */
function made(groups: string[], setLimits: (groups: [string, string, string]) => void): ReplicaCgroup | undefined {
  const remove = () => groups.forEach(tryRmdir);
  try {
    for (const g of groups) mkdirSync(g, { recursive: true });
    setLimits(groups as [string, string, string]);
  } catch {
    remove();
    return undefined;
  }
  return { procsFiles: groups.map((g) => join(g, "cgroup.procs")), remove };
}

/**
 * The command that joins the groups, then runs `command args…` in the same process: a shell
 * writes its own pid to each group's procs file and execs, so the replica and everything it
 * starts are counted from their first instruction.
 */
export function joiningCgroup(group: ReplicaCgroup | undefined, command: string, args: string[]): { command: string; args: string[] } {
  if (!group) return { command, args };
  const join = group.procsFiles.map((f) => `echo $$ > '${f.replace(/'/g, "'\\''")}' || exit 70`).join("; ");
  return { command: "/bin/sh", args: ["-c", `${join}; exec "$@"`, "sh", command, ...args] };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

function tryMkdir(path: string): boolean {
  try {
    mkdirSync(path, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function tryWrite(path: string, text: string): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch {
    return false;
  }
}

function tryRmdir(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // Still has processes (a replica being killed): the runtime's next start removes it.
  }
}
