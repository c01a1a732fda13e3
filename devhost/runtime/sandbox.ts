import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { dirname } from "node:path";

/**
 * How a replica's process is confined. A driver is untrusted code of one account: it must not
 * read the stack's secrets (the token-signing key, SERVICE_KEYS_SECRET, the runtime token), the
 * Cosmos journal, or other services' files, nor signal or trace the stack's processes.
 *
 * With bubblewrap (Debian's `bubblewrap`: unprivileged user, mount and PID namespaces) a replica
 * sees only what it needs, read-only: the system's /usr, the interpreter's installation (and its
 * service environment), a few files of /etc, and its own image's unpacked root; a private /tmp
 * and /dev, its own /proc. It runs as `nobody` with no capabilities, in a PID namespace of its
 * own, and everything it starts dies with it. The network is the host's loopback (the gateway
 * reaches the replica there). Without bubblewrap replicas run unconfined, and the runtime says
 * so loudly at start and in every replica's log.
 */
export interface Sandbox {
  /** "bubblewrap", or "none" when replicas run unconfined. */
  kind: "bubblewrap" | "none";
  /** Why replicas are not confined, when they are not. */
  warning?: string;
  /**
   * The command that runs `python args…` confined to `rootfs` (and the interpreter's own files),
   * with a private /tmp of at most `tmpBytes` (it is memory: a driver must not fill the host's RAM through it).
   */
  wrap(python: string, args: string[], rootfs: string, tmpBytes?: number): { command: string; args: string[] };
}

/** Files of /etc that programs commonly read (users, TLS roots, name resolution, time zone), and nothing else of it (no /etc/shadow). */
const ETC = [
  "/etc/passwd",
  "/etc/group",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/nsswitch.conf",
  "/etc/localtime",
  "/etc/alternatives",
  "/etc/ld.so.cache",
];

/** The private /tmp of a replica whose reservation names no memory. */
const DEFAULT_TMP_BYTES = 1024 ** 3;

/**
 * The sandbox the local runtime uses: `RUNTIME_SANDBOX` `bubblewrap` (required: the runtime
 * refuses to start without it), `none` (unconfined, on purpose), or unset (bubblewrap when it
 * works here, otherwise unconfined with a warning).
 */
export function chooseSandbox(setting: string | undefined): Sandbox {
  const wanted = setting ?? "auto";
  if (wanted === "none") return unconfined("RUNTIME_SANDBOX=none: replicas run unconfined, with the stack's own user and files in reach.");
  const broken = bubblewrapProblem();
  if (!broken) return bubblewrap();
  if (wanted === "bubblewrap") throw new Error(`RUNTIME_SANDBOX=bubblewrap, but bubblewrap cannot confine replicas here: ${broken}`);
  return unconfined(
    `Replicas are NOT confined: ${broken}. Drivers can read everything the stack's user can (its signing key and secrets included). Install bubblewrap (apt-get install bubblewrap) to confine them.`,
  );
}

function unconfined(warning: string): Sandbox {
  return { kind: "none", warning, wrap: (python, args) => ({ command: python, args }) };
}

/** Why bubblewrap cannot be used here (not installed, or no user namespaces), or undefined when it can. */
function bubblewrapProblem(): string | undefined {
  const probe = spawnSync("bwrap", ["--unshare-user", "--unshare-pid", ...systemFiles(), "/usr/bin/true"], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
  });
  if (probe.error)
    return (probe.error as NodeJS.ErrnoException).code === "ENOENT" ? "bubblewrap (bwrap) is not installed" : probe.error.message;
  if (probe.status !== 0) return `bwrap could not make a sandbox (${probe.stderr.toString().trim() || `exit ${probe.status}`})`;
  return undefined;
}

/**
 * /usr read-only, and the top-level /bin, /lib, /lib64, /sbin as the host has them: symlinks
 * into /usr on a merged-/usr system (Debian's default), bound read-only where they are folders.
 */
function systemFiles(): string[] {
  const top = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"].flatMap((d) => {
    const path = `/${d}`;
    if (!existsSync(path)) return [];
    const link = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
    return link ? ["--symlink", link, path] : ["--ro-bind", path, path];
  });
  return ["--ro-bind", "/usr", "/usr", ...top];
}

function bubblewrap(): Sandbox {
  const prefixes = new Map<string, string[]>();
  return {
    kind: "bubblewrap",
    wrap(python, args, rootfs, tmpBytes = DEFAULT_TMP_BYTES) {
      let own = prefixes.get(python);
      if (!own) {
        own = interpreterDirectories(python);
        prefixes.set(python, own);
      }
      const binds = [...new Set([...own, rootfs])].filter((p) => !p.startsWith("/usr/") && p !== "/usr");
      return {
        command: "bwrap",
        args: [
          "--unshare-user",
          "--unshare-pid",
          "--unshare-ipc",
          "--unshare-uts",
          "--unshare-cgroup-try",
          "--uid",
          "65534",
          "--gid",
          "65534",
          "--cap-drop",
          "ALL",
          "--die-with-parent",
          "--new-session",
          ...systemFiles(),
          ...ETC.flatMap((p) => ["--ro-bind-try", p, p]),
          // /tmp first: the binds below may lie under it (a data directory in /tmp), and a tmpfs
          // mounted after them would hide them.
          "--size",
          String(tmpBytes),
          "--tmpfs",
          "/tmp",
          ...binds.flatMap((p) => ["--ro-bind", p, p]),
          "--proc",
          "/proc",
          "--dev",
          "/dev",
          "--setenv",
          "HOME",
          "/tmp",
          "--setenv",
          "TMPDIR",
          "/tmp",
          "--",
          python,
          ...args,
        ],
      };
    },
  };
}

/**
 * What an interpreter needs of the file system beyond /usr: its installation (a pyenv or conda
 * prefix), and a virtual environment's own directory, found by asking it.
 */
function interpreterDirectories(python: string): string[] {
  const out = execFileSync(
    python,
    ["-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]))"],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  const prefixes = JSON.parse(out) as string[];
  const found = python.includes("/") ? python : execFileSync("sh", ["-c", 'command -v "$1"', "sh", python], { encoding: "utf8" }).trim();
  const executable = realpathSync(found);
  return [...new Set([...prefixes, dirname(dirname(executable))].map((p) => realpathSync(p)))];
}
