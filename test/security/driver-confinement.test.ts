import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { ApiClient, DEFAULT_ACCOUNT, tokensFor } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { requirePythonModules, requireTool } from "../support/tools.js";
import { Deployer, score } from "../support/deploy.js";
import { GREEDY_DRIVER, PRYING_DRIVER } from "../fixtures/hostile-drivers.js";
import { LINEAR_DRIVER } from "../fixtures/drivers.js";

/**
 * A Contributor's driver is untrusted code. Confined by bubblewrap, it sees its own image and
 * the interpreter, read-only, and nothing of the stack: not its signing key, its secrets, the
 * journal, another service's files, nor its processes; what it starts dies with it.
 */
const PYTHON = "/usr/bin/python3";
/** The bound on a replica's processes and threads this stack sets. */
const MAX_PROCESSES = 64;
const A = DEFAULT_ACCOUNT;
let stack: LocalStack;
let api: ApiClient;
let deployer: Deployer;
let prying: { scoringUri: string; key: string; service: { id: string } };

beforeAll(async () => {
  requireTool("bwrap", "bubblewrap");
  requirePythonModules(PYTHON, ["json"], "python3");
  stack = await startLocalStack({
    env: { PYTHON, RUNTIME_SANDBOX: "bubblewrap", OPERATION_STALL_SECONDS: "30", RUNTIME_REPLICA_MAX_PROCESSES: String(MAX_PROCESSES) },
  });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  deployer = new Deployer(api, new TestBlobs(stack.ports.blobPort), A);
  prying = await deployer.deploy("prying", PRYING_DRIVER);
});

afterAll(async () => {
  await stack?.stop();
});

async function pry(ask: Record<string, unknown>) {
  const res = await score(prying.scoringUri, prying.key, ask);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as {
    uid: number;
    pid: number;
    holds: Record<string, string>;
    read: Record<string, string>;
    list: Record<string, string>;
    write: Record<string, string>;
    signal: Record<string, string>;
    spawned?: number;
  };
}

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe("a driver on the local runtime", () => {
  it("cannot read the stack's secrets, its journal or its settings", async () => {
    const secrets = filesUnder(join(stack.dataDir, "auth"));
    expect(secrets.map((p) => p.slice(stack.dataDir.length + 1)).sort()).toEqual(
      expect.arrayContaining(["auth/runtime-token", "auth/service-keys.secret", "auth/signing-key.json"]),
    );
    const targets = [
      ...secrets,
      ...filesUnder(join(stack.dataDir, "cosmos")),
      join(stack.dataDir, "endpoints.json"),
      join(stack.dataDir, "stack.json"),
    ];
    const seen = await pry({ read: targets, list: [stack.dataDir, join(stack.dataDir, "auth")] });
    for (const path of targets) expect(seen.read[path], path).toBe("FileNotFoundError");
    expect(seen.list[stack.dataDir]).toMatch(/^ok: \['runtime'\]$/);
    expect(seen.list[join(stack.dataDir, "auth")]).toBe("FileNotFoundError");
    // It runs as nobody, not as the stack's user.
    expect(seen.uid).toBe(65534);
  });

  it("sees its own image read-only, a private /tmp, and no other service's files", async () => {
    const victim = await deployer.deploy("victim", LINEAR_DRIVER);
    expect((await score(victim.scoringUri, victim.key, { data: [[1, 1, 1]] })).status).toBe(200);
    const images = join(stack.dataDir, "runtime", "images");
    const unpacked = readdirSync(images).filter((n) => n.startsWith("sha256-"));
    expect(unpacked.length).toBeGreaterThanOrEqual(2);
    const seen = await pry({
      list: [images, "/tmp", "/home", "/root"],
      read: ["score.py", "/etc/shadow", "/etc/passwd"],
      write: ["written.txt", "/tmp/scratch.txt"],
    });
    // Only its own image's directory is there; the victim's is not.
    const own = /^ok: \[(.*)\]$/.exec(seen.list[images]!)?.[1]?.split(", ");
    expect(own).toHaveLength(1);
    expect(unpacked).toContain(own![0]!.replace(/'/g, ""));
    expect(seen.read["score.py"]).toMatch(/^ok: \d+$/);
    expect(seen.read["/etc/shadow"]).toBe("FileNotFoundError");
    expect(seen.read["/etc/passwd"]).toMatch(/^ok/);
    expect(seen.list["/home"]).toBe("FileNotFoundError");
    expect(seen.list["/root"]).toBe("FileNotFoundError");
    expect(seen.write["written.txt"]).toBe("OSError");
    expect(seen.write["/tmp/scratch.txt"]).toBe("ok: /tmp/scratch.txt");
  });

  it("sees only its own processes, whose environment holds none of the stack's secrets", async () => {
    const secrets = ["runtime-token", "service-keys.secret"].map((f) => readFileSync(join(stack.dataDir, "auth", f), "utf8").trim());
    const seen = await pry({
      list: ["/proc"],
      holds: secrets.flatMap((s) => ["/proc/1/environ", "/proc/self/environ"].map((p) => [p, s])),
    });
    const pids = /^ok: \[(.*)\]$/
      .exec(seen.list["/proc"]!)![1]!
      .split(", ")
      .filter((e) => /^'\d+'$/.test(e));
    // bubblewrap's init, the scoring server, and nothing of the stack.
    expect(pids.length).toBeLessThanOrEqual(3);
    expect(Object.values(seen.holds)).toHaveLength(4);
    for (const [what, found] of Object.entries(seen.holds)) expect(found, what).toBe("ok: False");
  });

  it("cannot signal the stack's processes", async () => {
    const { supervisor, pids } = JSON.parse(readFileSync(join(stack.dataDir, "stack.json"), "utf8")) as {
      supervisor: number;
      pids: number[];
    };
    const seen = await pry({ signal: [supervisor, ...pids] });
    for (const pid of [supervisor, ...pids]) expect(seen.signal[String(pid)], `pid ${pid}`).toBe("ProcessLookupError");
  });

  it("takes what it starts down with it when its service is deleted", async () => {
    const own = await deployer.deploy("spawner", PRYING_DRIVER);
    const marker = `mm-orphan-${randomUUID()}`;
    expect((await pry({})).uid).toBe(65534);
    const res = await score(own.scoringUri, own.key, { spawn: marker });
    expect(res.status).toBe(200);
    expect(running(marker)).toBe(true);
    expect((await api.delete(`${A}/services/${own.service.id}`)).status).toBe(200);
    const deadline = Date.now() + 15_000;
    while (running(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(running(marker)).toBe(false);
  });

  it("gets the CPU its reservation names and a bounded number of threads and processes, and the machine stays usable", async () => {
    const greedy = await deployer.deploy("greedy", GREEDY_DRIVER, { containerResourceReservation: { cpu: "0.2", memory: "2Gi" } });
    const logs = await api.request("GET", `${A}/services/${greedy.service.id}/logs`);
    if (!/\[limits\] control group/.test(logs.text))
      throw new Error(
        `The runtime could not make control groups here (it needs root, or a delegated cgroup v2 subtree; CI runs as root). Replica log:\n${logs.text}`,
      );
    expect(logs.text).toContain("CPU 200m, at most 64 processes and threads, memory 2147483648 bytes");
    const ask = async (body: unknown) => {
      const res = await score(greedy.scoringUri, greedy.key, body);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as { started?: number; error?: string | null; cpuSeconds?: number };
    };
    const bomb = await ask({ threads: 500 });
    expect(bomb.started).toBeGreaterThan(0);
    expect(bomb.started).toBeLessThan(MAX_PROCESSES);
    expect(bomb.error).toMatch(/can't start new thread|Resource temporarily unavailable/);
    await new Promise((r) => setTimeout(r, 1500)); // its threads end after a second
    // A fifth of a core: about 0.4 s of CPU in 2 s (unbounded, a spinning loop gets close to 2 s).
    const spin = await ask({ cpu: 2 });
    expect(spin.cpuSeconds).toBeLessThan(0.8);
    expect(spin.cpuSeconds).toBeGreaterThan(0.1);
    // Other services and the API go on as before.
    expect((await score(prying.scoringUri, prying.key, {})).status).toBe(200);
    expect((await api.get(`${A}/services/${greedy.service.id}`)).status).toBe(200);
  });
});

/** Whether a process with this marker in its command line runs on the machine. */
function running(marker: string): boolean {
  try {
    execFileSync("pgrep", ["-f", marker], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
