import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { ReplicaChannel, type HandoffOptions } from "./replica-channel.js";
import type { Readable } from "node:stream";
import { freePort } from "../ports.js";
import { join } from "node:path";
import { boundedLines } from "./bounded-lines.js";
import { MAX_RECORD_BYTES, collectedRecord, type CollectedRecord } from "./data-collector.js";
import type { Sandbox } from "./sandbox.js";
import { joiningCgroup, type Cgroups, type ReplicaCgroup, type ReplicaLimits } from "./replica-cgroups.js";

/** Where replicas' control groups come from, and the process bound every replica gets. */
export interface ReplicaLimitSource {
  cgroups: Cgroups;
  maxProcesses: number;
}

type ReplicaState = "Starting" | "Healthy" | "Unhealthy" | "Failed" | "Stopped";

const LOG_LINES = 500;
const HEALTH_EVERY_MS = 500;

/** The replica's end of the data collection pipe: the scoring server's file descriptor 3. */
const COLLECTION_FD = 3;

interface ReplicaOptions {
  /** The interpreter that runs the scoring server (the host's, or a service environment's). */
  python: string;
  /** What confines the process to its own files. */
  sandbox: Sandbox;
  /** What bounds its CPU, processes and memory. */
  limits: ReplicaLimitSource;
  rootfs: string;
  env: Record<string, string>;
  /** Lines that open the replica's log: how its environment was made. */
  notes?: string[];
  /** Receives what the driver's ModelDataCollector sends, when the service collects model data. */
  onCollected?: (record: CollectedRecord) => void;
  /** Client connections the gateway may hand this replica (scoring/aml_server/handoff.py). */
  handoff?: HandoffOptions;
  /**
   * A scoring request's deadline. A replica that has served and then answers no health check for
   * this long is recycled: a run() that hangs on its event loop holds handed connections the
   * gateway cannot time out.
   */
  requestTimeoutMs?: number;
}

/**
 * One replica: a scoring server process on its own loopback port, run from an unpacked image
 * with the host's Python (or the service's environment). It is health-checked (`GET /`) and
 * restarted with back-off when it dies; it keeps the last lines of its output for `service logs`.
 */
export class Replica {
  state: ReplicaState = "Starting";
  port = 0;
  restarts = 0;
  inFlight = 0;
  /** Client connections the gateway handed this replica (each lease counts again). */
  connectionsTaken = 0;
  lastError: string | undefined;
  readonly logs: string[] = [];
  #child: ChildProcess | undefined;
  #health: NodeJS.Timeout | undefined;
  #cgroup: ReplicaCgroup | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #everHealthy = false;
  /** The running process's IPC channel, when the service's connections are handed to replicas. */
  #channel: ReplicaChannel | undefined;
  /** Since when health checks have gone unanswered (the process alive), if they have. */
  #silentSince: number | undefined;
  /** Whether the running process has answered a health check with 200. */
  #servedSinceStart = false;

  constructor(
    readonly id: string,
    private readonly options: ReplicaOptions,
  ) {}

  get healthy(): boolean {
    return this.state === "Healthy";
  }

  async start(): Promise<void> {
    const { sandbox } = this.options;
    this.#keep(
      sandbox.kind === "bubblewrap"
        ? "[sandbox] confined with bubblewrap: its own image's files and the interpreter, read-only; no access to the stack's data"
        : `[sandbox] ${sandbox.warning}`,
    );
    this.#keep(this.#limitsNote());
    for (const note of this.options.notes ?? []) this.#keep(note);
    this.port = await freePort();
    this.#spawn();
    this.#health = setInterval(() => void this.#check(), HEALTH_EVERY_MS);
  }

  #spawn(): void {
    const { rootfs, env, python, onCollected, sandbox, handoff } = this.options;
    this.state = "Starting";
    const confined = sandbox.wrap(python, [join(rootfs, "var", "azureml-server", "server.py")], rootfs, memoryLimit(env));
    this.#cgroup?.remove();
    this.#cgroup = this.options.limits.cgroups.create(`${this.id}-${this.restarts}`, this.#limits());
    const { command, args } = joiningCgroup(this.#cgroup, confined.command, confined.args);
    const child = spawn(command, args, {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...env,
        PYTHONUNBUFFERED: "1",
        AML_EXIT_WITH_PARENT: "1",
        AML_APP_ROOT: join(rootfs, "var", "azureml-app"),
        AML_HOST: "127.0.0.1",
        AML_PORT: String(this.port),
        ...(onCollected ? { AML_MODEL_DC_PIPE_FD: String(COLLECTION_FD) } : {}),
        ...(handoff ? { AML_HANDOFF_SERVICE: handoff.service } : {}),
      },
      // The IPC channel (NODE_CHANNEL_FD) carries handed connections; it follows the collection pipe.
      stdio: ["ignore", "pipe", "pipe", onCollected ? "pipe" : "ignore", ...(handoff ? (["ipc"] as const) : [])],
    });
    if (onCollected) this.#readCollected(child.stdio[COLLECTION_FD] as Readable, onCollected);
    this.#child = child;
    this.#channel = handoff ? new ReplicaChannel(child, handoff) : undefined;
    this.#servedSinceStart = false;
    this.#silentSince = undefined;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) this.#keep(line);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("error", (err) => {
      this.lastError = `cannot start ${python}: ${err.message}`;
      this.logs.push(this.lastError);
    });
    child.once("exit", (code, signal) => {
      if (this.#stopped) return;
      this.state = "Failed";
      this.lastError = `the scoring server exited (${signal ?? `code ${code}`})`;
      this.logs.push(`${new Date().toISOString()} ${this.lastError}; restarting`);
      // Back-off: 0.5 s, 1 s, 2 s … up to 30 s between restarts.
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts, 6));
      this.restarts++;
      this.#restartTimer = setTimeout(() => void this.#restart(), delay);
    });
  }

  /** Requests in progress on connections handed to the replica. */
  get handedInFlight(): number {
    return this.#channel?.handedInFlight ?? 0;
  }

  /** Gives the running process the service's keys now; resolves once it holds them (or could not). */
  async pushKeys(): Promise<void> {
    await this.#channel?.pushKeys();
  }

  /** Whether the gateway may hand this replica a client's connection now. */
  get takesConnections(): boolean {
    const channel = this.#channel;
    return !!channel && this.healthy && !this.#stopped && channel.open && channel.holdsCurrentKeys();
  }

  /**
   * Hands the replica a client's connection, with the bytes already read of it; false when it
   * cannot take one (the connection is then still the caller's).
   */
  adopt(socket: Socket, buffered: Buffer): boolean {
    if (!this.takesConnections || !this.#channel!.adopt(socket, buffered)) return false;
    this.connectionsTaken++;
    return true;
  }

  #limits(): ReplicaLimits {
    const { env, limits } = this.options;
    const cpu = cpuLimit(env);
    const memory = memoryLimit(env);
    return { maxProcesses: limits.maxProcesses, ...(cpu ? { cpuMillicores: cpu } : {}), ...(memory ? { memoryBytes: memory } : {}) };
  }

  /** What bounds the replica, said at the top of its log. */
  #limitsNote(): string {
    const { cgroups } = this.options.limits;
    if (cgroups.kind === "none") return `[limits] ${cgroups.warning}`;
    const l = this.#limits();
    return `[limits] control group (${cgroups.kind}): CPU ${l.cpuMillicores ? `${l.cpuMillicores}m` : "unbounded"}, at most ${l.maxProcesses} processes and threads, memory ${l.memoryBytes ? `${l.memoryBytes} bytes` : "unbounded"}`;
  }

  /** Each JSON line the driver's collector writes is a record; a malformed or oversized one is logged and dropped. */
  #readCollected(pipe: Readable, onCollected: (record: CollectedRecord) => void): void {
    const drop = (why: string) => this.#keep(`data collection: a record was dropped (${why})`);
    boundedLines(
      pipe,
      MAX_RECORD_BYTES,
      (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return drop("not JSON");
        }
        const record = collectedRecord.safeParse(parsed);
        if (!record.success) return drop("not a collected record");
        onCollected(record.data);
      },
      (bytes) => drop(`${bytes} bytes, over the ${MAX_RECORD_BYTES} a collect() call may send`),
    );
  }

  #keep(line: string): void {
    this.logs.push(`${new Date().toISOString()} ${line}`);
    if (this.logs.length > LOG_LINES) this.logs.shift();
  }

  /** Starts the process again, on a fresh port (the old one may have been why it died). */
  async #restart(): Promise<void> {
    if (this.#stopped) return;
    this.port = await freePort();
    if (!this.#stopped) this.#spawn();
  }

  async #check(): Promise<void> {
    if (this.#stopped || this.state === "Failed") return;
    let status: number;
    let body = "";
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/`, { signal: AbortSignal.timeout(2000) });
      status = res.status;
      body = await res.text();
    } catch {
      status = 0;
    }
    if (this.#stopped) return;
    this.#silentSince = status === 0 ? (this.#silentSince ?? Date.now()) : undefined;
    const limit = this.options.requestTimeoutMs;
    if (status === 0 && this.#servedSinceStart && limit !== undefined && Date.now() - this.#silentSince! > limit) {
      this.#silentSince = undefined;
      this.recycle(`it answered no health check for ${limit / 1000} s`);
    } else if (status === 503 && body.includes('"stuck"')) {
      // run() outlived the deadline on a handed connection (the gateway recycles its own).
      this.recycle("a request outlived its deadline");
    } else if (status === 200) {
      this.#servedSinceStart = true;
      this.state = "Healthy";
      this.#everHealthy = true;
    } else if (status === 503 && body.includes('"failed"')) {
      this.state = "Unhealthy";
      try {
        const failure = JSON.parse(body) as { error?: string; details?: string };
        this.lastError = `init() failed: ${failure.error ?? "unknown error"}${failure.details ? `\n${failure.details}` : ""}`;
      } catch {
        this.lastError = "init() failed";
      }
    } else if (this.#everHealthy || this.state === "Healthy") {
      this.state = "Unhealthy";
    }
  }

  /**
   * Kills the process (it is stuck: a request outlived its deadline); it restarts as after a
   * crash, and requests it still held fail with 502.
   */
  recycle(reason: string): void {
    const child = this.#child;
    if (this.#stopped || !child || child.exitCode !== null || child.signalCode !== null) return;
    this.#keep(`recycled: ${reason}`);
    this.state = "Unhealthy";
    child.kill("SIGKILL");
  }

  /** True when the process keeps dying before it ever served: restarting will not help. */
  get crashLooping(): boolean {
    return !this.#everHealthy && this.restarts >= 2;
  }

  /** True once init() has failed: the replica will never become healthy. */
  get initFailed(): boolean {
    return this.state === "Unhealthy" && (this.lastError?.startsWith("init() failed") ?? false);
  }

  /** Stops taking requests, waits (bounded) for those in flight, then stops the process. */
  async stop(drainMs = 10_000): Promise<void> {
    this.#stopped = true;
    this.state = "Stopped";
    if (this.#health) clearInterval(this.#health);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const deadline = Date.now() + drainMs;
    // Handed connections come back to the gateway (between requests), which takes them on elsewhere.
    await this.#channel?.drain(drainMs);
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    // The sandbox's other processes die with its first one, a moment later: then the group can go.
    const group = this.#cgroup;
    group?.remove();
    setTimeout(() => group?.remove(), 1000).unref();
  }
}

/** The CPU a replica may use (its reservation), if any. */
function cpuLimit(env: Record<string, string>): number | undefined {
  const millicores = Number(env.AML_LIMIT_CPU_MILLICORES);
  return Number.isSafeInteger(millicores) && millicores > 0 ? millicores : undefined;
}

/** The memory a replica may use (its reservation, passed to the scoring server), if any. */
function memoryLimit(env: Record<string, string>): number | undefined {
  const bytes = Number(env.AML_LIMIT_MEMORY_BYTES);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}
