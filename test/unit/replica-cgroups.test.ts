import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseCgroups, joiningCgroup } from "../../devhost/runtime/replica-cgroups.js";

/** A cgroup v1 file system as a directory: one hierarchy per controller, this process in `memory:/job`. */
function cgroup1Tree() {
  const mount = mkdtempSync(join(tmpdir(), "mm-cgroupfs-"));
  for (const dir of ["cpu", "pids", "memory", "memory/job"]) {
    mkdirSync(join(mount, dir), { recursive: true });
    writeFileSync(join(mount, dir, "cgroup.procs"), "");
  }
  // A group left by a runtime that is gone, with an empty replica group in it.
  mkdirSync(join(mount, "pids", "mm-runtime-99999999", "old-replica"), { recursive: true });
  return { mount, own: "4:memory:/job\n1:cpu:/\n8:pids:/\n0::/" };
}

describe("per-replica control groups", () => {
  it("makes a group per replica under the runtime's own group, with the reservation's CPU, a process bound and its memory", () => {
    const { mount, own } = cgroup1Tree();
    const cgroups = chooseCgroups(mount, own);
    expect(cgroups.kind).toBe("cgroup1");
    expect(existsSync(join(mount, "pids", "mm-runtime-99999999"))).toBe(false);
    const group = cgroups.create("web-1", { cpuMillicores: 250, maxProcesses: 64, memoryBytes: 1 << 30 })!;
    const root = `mm-runtime-${process.pid}`;
    expect(readFileSync(join(mount, "cpu", root, "web-1", "cpu.cfs_quota_us"), "utf8")).toBe("25000");
    expect(readFileSync(join(mount, "cpu", root, "web-1", "cpu.cfs_period_us"), "utf8")).toBe("100000");
    expect(readFileSync(join(mount, "pids", root, "web-1", "pids.max"), "utf8")).toBe("64");
    // Under the group the runtime runs in: limits set on the runtime still hold for its replicas.
    expect(readFileSync(join(mount, "memory", "job", root, "web-1", "memory.limit_in_bytes"), "utf8")).toBe(String(1 << 30));
    expect(group.procsFiles).toEqual(["cpu", "pids", "memory/job"].map((d) => join(mount, d, root, "web-1", "cgroup.procs")));

    const unbounded = cgroups.create("web-2", { maxProcesses: 64 })!;
    expect(unbounded).toBeDefined();
    expect(readFileSync(join(mount, "cpu", root, "web-2", "cpu.cfs_quota_us"), "utf8")).toBe("-1");
    expect(readFileSync(join(mount, "memory", "job", root, "web-2", "memory.limit_in_bytes"), "utf8")).toBe("-1");
  });

  it("removes its groups when the runtime closes", () => {
    const { mount, own } = cgroup1Tree();
    const cgroups = chooseCgroups(mount, own);
    const group = cgroups.create("web-1", { maxProcesses: 8 })!;
    // A real cgroup directory holds only kernel files, and rmdir takes it with them; here they are plain files.
    for (const f of group.procsFiles) rmSync(join(f, ".."), { recursive: true });
    cgroups.close();
    for (const d of ["cpu", "pids", "memory/job"]) expect(existsSync(join(mount, d, `mm-runtime-${process.pid}`))).toBe(false);
  });

  it("has the replica join its group before it starts, and says so when no group can be made", () => {
    const { mount, own } = cgroup1Tree();
    const group = chooseCgroups(mount, own).create("r", { maxProcesses: 8 })!;
    const wrapped = joiningCgroup(group, "bwrap", ["--", "python3", "server.py"]);
    expect(wrapped.command).toBe("/bin/sh");
    expect(wrapped.args.slice(-4)).toEqual(["bwrap", "--", "python3", "server.py"]);
    expect(wrapped.args[1]).toContain(`echo $$ > '${group.procsFiles[0]}'`);
    expect(wrapped.args[1]).toMatch(/exec "\$@"$/);

    const none = chooseCgroups(mkdtempSync(join(tmpdir(), "mm-nocgroup-")), own);
    expect(none.kind).toBe("none");
    expect(none.warning).toMatch(/no CPU or process limits/);
    expect(none.create("r", { maxProcesses: 8 })).toBeUndefined();
    expect(joiningCgroup(undefined, "bwrap", ["x"])).toEqual({ command: "bwrap", args: ["x"] });
  });
});
