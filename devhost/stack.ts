import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts, isPortFree, waitForPort } from "./ports.js";
import { AZURITE_ACCOUNT, azuriteConnectionString } from "./azurite-account.js";
import { LOCAL_AUDIENCE, LOCAL_DEFAULT_ACCOUNT, LOCAL_ISSUER, LOCAL_USER_ID, openLocalIssuer } from "./local-issuer.js";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export interface StackOptions {
  /** The project root: the Functions app loaded by the host. */
  appDir: string;
  dataDir: string;
  port: number;
  cosmosPort: number;
  blobPort: number;
  queuePort: number;
  /** The scoring gateway and the local runtime's control API. */
  scoringPort: number;
  runtimePort: number;
  /** Lines the children print, for the console. */
  onOutput(source: string, line: string): void;
  /** A child stopped on its own; it is started again in `restartInMs`. */
  onChildExit(source: string, code: number | null, signal: string | null, restartInMs: number): void;
}

export interface RunningStack {
  apiBaseUrl: string;
  hostBaseUrl: string;
  cosmosEndpoint: string;
  blobEndpoint: string;
  queueEndpoint: string;
  scoringBaseUrl: string;
  accountPath: string;
  functions: { name: string; trigger: string; detail: string }[];
  /** How the local runtime confines replicas, or the warning that it does not. */
  replicaSandbox: string;
  /** What bounds each replica's CPU, processes and memory (or why nothing does). */
  replicaLimits: string;
  /** Process ids of the children, by name (azurite-blob, azurite-queue, cosmos, functions). */
  pids: Record<string, number>;
  /**
   * Stops every child. `interrupted`: a Ctrl-C at the terminal, which every process of the stack
   * received at once: Azurite, closing by itself then, gets a moment before it is told again (it
   * takes a second signal while it closes for an error).
   */
  stop(options?: { interrupted?: boolean }): Promise<void>;
}

export class StackError extends Error {}

/** The ports of a stack, as the stack names them. */
export type StackPorts = Pick<StackOptions, "port" | "cosmosPort" | "blobPort" | "queuePort" | "scoringPort" | "runtimePort">;

/** Six ports free on loopback right now, for a stack of its own (tests, benchmarks). */
export async function freeStackPorts(): Promise<StackPorts> {
  const [port, cosmosPort, blobPort, queuePort, scoringPort, runtimePort] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { port, cosmosPort, blobPort, queuePort, scoringPort, runtimePort };
}

/** The environment that gives `npm start` these ports (PORT, COSMOS_PORT, …). */
export function portEnvironment(ports: StackPorts): Record<string, string> {
  return Object.fromEntries(portsOf(ports).map(([port, variable]) => [variable, String(port)]));
}

/** Ports the stack needs, with the environment variable that moves each. */
function portsOf(o: StackPorts): [number, string][] {
  return [
    [o.port, "PORT"],
    [o.cosmosPort, "COSMOS_PORT"],
    [o.blobPort, "AZURITE_BLOB_PORT"],
    [o.queuePort, "AZURITE_QUEUE_PORT"],
    [o.scoringPort, "SCORING_PORT"],
    [o.runtimePort, "RUNTIME_PORT"],
  ];
}

/**
 * Starts the local stack: Azurite (blob, queue), the durable Cosmos DB emulator and the local
 * Functions host, each a child process on loopback, data under one directory.
 */
export async function startStack(o: StackOptions): Promise<RunningStack> {
  // Everything the stack stores (its signing key, the journal of every resource, the images)
  // is its user's alone: the data directory is 0700, and what the stack and its children create
  // is 0600/0700.
  process.umask(0o077);
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(o.dataDir, 0o700);
  stopLeftovers(o.dataDir);
  const ports = portsOf(o);
  for (const [port, variable] of ports) {
    const other = ports.find(([p, v]) => p === port && v !== variable);
    if (other) throw new StackError(`${variable} and ${other[1]} both name port ${port}; give each its own.`);
  }
  for (const [port, variable] of ports) {
    if (!(await isPortFree(port)))
      throw new StackError(`Port ${port} on 127.0.0.1 is already in use (set ${variable} to use another one, or stop what uses it).`);
  }
  /** The children, each with how to start it again: one that dies is restarted, with back-off. */
  const children: { name: string; child: ChildProcess; start: () => ChildProcess; restarts: number; startedAt: number }[] = [];
  let stopping = false;
  // Written whole or not at all (a file renamed into place): others read it while children restart.
  const saveState = () => {
    const path = join(o.dataDir, "stack.json");
    writeFileSync(`${path}.tmp`, JSON.stringify({ supervisor: process.pid, pids: children.map((c) => c.child.pid) }));
    renameSync(`${path}.tmp`, path);
  };
  const watch = (entry: (typeof children)[number]): void => {
    pipeLines(entry.child, entry.name, o.onOutput);
    entry.child.once("exit", (code, signal) => {
      if (stopping) return;
      // Back-off: 0.5 s, 1 s, 2 s … up to 30 s; a child that ran a minute starts over at 0.5 s.
      if (Date.now() - entry.startedAt > 60_000) entry.restarts = 0;
      const delay = Math.min(30_000, 500 * 2 ** entry.restarts);
      entry.restarts++;
      o.onChildExit(entry.name, code, signal, delay);
      setTimeout(() => {
        if (stopping) return;
        entry.child = entry.start();
        entry.startedAt = Date.now();
        watch(entry);
        saveState();
      }, delay);
    });
  };
  const track = (name: string, start: () => ChildProcess): ChildProcess => {
    const entry = { name, start, child: start(), restarts: 0, startedAt: Date.now() };
    children.push(entry);
    watch(entry);
    saveState();
    return entry.child;
  };
  // The Functions host first, so that no invocation meets a dependency already gone; then the
  // rest. Azurite heard a terminal's Ctrl-C itself and is closing: it gets a moment before it is
  // told again. Our own children leave a terminal's Ctrl-C to the supervisor (stopOnSignals).
  const stop = async (options: { interrupted?: boolean } = {}): Promise<void> => {
    stopping = true;
    const grace = (name: string) => (options.interrupted && name.startsWith("azurite") ? 3000 : 0);
    const functions = children.filter((c) => c.name === "functions");
    await Promise.all(functions.map(({ child }) => stopChild(child)));
    await Promise.all(children.filter((c) => c.name !== "functions").map(({ name, child }) => stopChild(child, grace(name))));
  };

  try {
    const issuer = await openLocalIssuer(o.dataDir);
    const azuriteDir = join(o.dataDir, "azurite");
    mkdirSync(azuriteDir, { recursive: true });
    const azuriteBin = join(dirname(require.resolve("azurite/package.json")), "dist", "src");
    const azuriteArgs = ["--silent", "--disableTelemetry", "--location", azuriteDir, "--skipApiVersionCheck", "--loose"];
    // Azurite's stdout only says it started; its errors go to stderr, which we show.
    track("azurite-blob", () =>
      spawn(
        process.execPath,
        [join(azuriteBin, "blob", "main.js"), ...azuriteArgs, "--blobHost", "127.0.0.1", "--blobPort", String(o.blobPort)],
        { stdio: ["ignore", "ignore", "pipe"] },
      ),
    );
    track("azurite-queue", () =>
      spawn(
        process.execPath,
        [join(azuriteBin, "queue", "main.js"), ...azuriteArgs, "--queueHost", "127.0.0.1", "--queuePort", String(o.queuePort)],
        { stdio: ["ignore", "ignore", "pipe"] },
      ),
    );
    const blobEndpoint = `http://127.0.0.1:${o.blobPort}/${AZURITE_ACCOUNT}`;
    const storageConnection = azuriteConnectionString({ blob: o.blobPort, queue: o.queuePort });
    const runtimeTokenFile = localSecret(o.dataDir, "runtime-token", () => randomBytes(32).toString("base64url"));
    const eventGridKey = readFileSync(
      localSecret(o.dataDir, "eventgrid-extension.key", () => randomBytes(32).toString("base64url")),
      "utf8",
    ).trim();
    const serviceKeysSecret = readFileSync(
      localSecret(o.dataDir, "service-keys.secret", () => randomBytes(32).toString("base64")),
      "utf8",
    ).trim();
    const runtime = track("runtime", () =>
      fork(join(here, "runtime", "main.js"), [join(o.dataDir, "runtime"), String(o.runtimePort), String(o.scoringPort)], {
        env: {
          ...process.env,
          LOCAL_RUNTIME_TOKEN_FILE: runtimeTokenFile,
          PYTHON: process.env.PYTHON ?? "python3",
          AzureWebJobsStorage: storageConnection,
        },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      }),
    );
    const runtimeReady = readyMessage<{ sandbox: string; warning?: string; limits: string; limitsWarning?: string }>(runtime, "runtime");
    const cosmos = track("cosmos", () =>
      fork(join(here, "cosmos", "main.js"), [join(o.dataDir, "cosmos"), String(o.cosmosPort)], {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      }),
    );
    const cosmosReady = readyMessage<{ endpoint: string }>(cosmos, "cosmos");
    const [, , , runtimeInfo] = await Promise.all([waitForPort(o.blobPort), waitForPort(o.queuePort), cosmosReady, runtimeReady]);

    const cosmosEndpoint = `http://127.0.0.1:${o.cosmosPort}/`;
    const hostBaseUrl = `http://127.0.0.1:${o.port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FUNCTIONS_WORKER_RUNTIME: "node",
      AzureWebJobsStorage: storageConnection,
      COSMOS_ENDPOINT: cosmosEndpoint,
      // The emulator accepts any key; the SDK only needs one to sign with.
      COSMOS_KEY: Buffer.from("local-emulator").toString("base64"),
      COSMOS_CREATE_IF_MISSING: "true",
      AUTH_ISSUER: LOCAL_ISSUER,
      AUTH_AUDIENCE: LOCAL_AUDIENCE,
      AUTH_JWKS_URI: `${hostBaseUrl}/.well-known/jwks.json`,
      BOOTSTRAP_ACCOUNT: LOCAL_DEFAULT_ACCOUNT,
      BOOTSTRAP_OWNER: LOCAL_USER_ID,
      IMAGE_BUILD_QUEUE: process.env.IMAGE_BUILD_QUEUE ?? "image-builds",
      IMAGES_DIR: join(o.dataDir, "images"),
      // Workers may fetch from the local Azurite, and from whatever the user allows on top.
      FETCH_ALLOWED_ORIGINS: [`http://127.0.0.1:${o.blobPort}`, process.env.FETCH_ALLOWED_ORIGINS ?? ""].filter(Boolean).join(","),
      SERVICE_ROLLOUT_QUEUE: process.env.SERVICE_ROLLOUT_QUEUE ?? "service-rollouts",
      STORAGE_PURGE_QUEUE: process.env.STORAGE_PURGE_QUEUE ?? "storage-purges",
      SERVICE_KEYS_SECRET: serviceKeysSecret,
      LOCAL_RUNTIME_URL: `http://127.0.0.1:${o.runtimePort}`,
      LOCAL_RUNTIME_TOKEN: readFileSync(runtimeTokenFile, "utf8").trim(),
      LOCAL_SCORING_URL: `http://127.0.0.1:${o.scoringPort}`,
      // Event Grid's part, locally: model blobs dropped into Azurite reach the blob hook.
      LOCAL_BLOB_EVENTS: "models=modelBlobCreated",
      LOCAL_BLOB_EVENTS_STATE: join(o.dataDir, "blob-events.json"),
      // The Event Grid webhook's key (Azure's eventgrid_extension system key), and the largest
      // request body the host reads before any function (token checks included) sees it: the API
      // takes JSON bodies of at most 1 MB, so 2 MB bounds what an unauthenticated caller can make
      // the host hold.
      EVENTGRID_EXTENSION_KEY: eventGridKey,
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT ?? String(2 * 1024 * 1024),
    };
    const host = track("functions", () =>
      fork(join(here, "functions-host", "main.js"), ["--app-dir", o.appDir, "--port", String(o.port), "--jwks", issuer.jwksPath], {
        env,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      }),
    );
    const ready = await readyMessage<{ functions: RunningStack["functions"] }>(host, "functions");
    // What clients on this machine (mm login) need to find the stack.
    writeFileSync(
      join(o.dataDir, "endpoints.json"),
      JSON.stringify(
        { api: `${hostBaseUrl}/api`, blob: blobEndpoint, scoring: `http://127.0.0.1:${o.scoringPort}`, account: LOCAL_DEFAULT_ACCOUNT },
        null,
        2,
      ),
    );
    return {
      apiBaseUrl: `${hostBaseUrl}/api`,
      hostBaseUrl,
      cosmosEndpoint,
      blobEndpoint,
      queueEndpoint: `http://127.0.0.1:${o.queuePort}/${AZURITE_ACCOUNT}`,
      scoringBaseUrl: `http://127.0.0.1:${o.scoringPort}`,
      accountPath: LOCAL_DEFAULT_ACCOUNT,
      functions: ready.functions,
      replicaSandbox: runtimeInfo.warning ?? "confined with bubblewrap (each sees only its own image's files)",
      replicaLimits:
        runtimeInfo.limitsWarning ??
        `a control group each (${runtimeInfo.limits}): CPU from the reservation, a bound on processes, memory from the reservation`,
      pids: Object.fromEntries(children.map(({ name, child }) => [name, child.pid ?? 0])),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function readyMessage<T>(child: ChildProcess, name: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const onExit = (code: number | null): void =>
      reject(new StackError(`${name} stopped before it was ready (exit code ${code}); its output is above.`));
    child.once("exit", onExit);
    child.on("message", (m: unknown) => {
      if (m && typeof m === "object" && (m as { ready?: unknown }).ready === true) {
        child.off("exit", onExit);
        resolvePromise(m as T);
      }
    });
  });
}

function pipeLines(child: ChildProcess, name: string, onOutput: StackOptions["onOutput"]): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onOutput(name, line);
    });
  }
}

/** Ends a child: SIGTERM (after `graceMs`, when it may be stopping on its own already), SIGKILL 5 s later. */
function stopChild(child: ChildProcess, graceMs = 0): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const term = setTimeout(() => child.kill("SIGTERM"), graceMs);
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs + 5000);
    child.once("exit", () => {
      clearTimeout(term);
      clearTimeout(kill);
      resolvePromise();
    });
  });
}

/**
 * A stack killed with `kill -9` leaves Azurite running (it has no channel to notice); the next
 * start ends the processes the last one recorded, when they are still ours. A stack still
 * running on the same data directory is left alone, and this start refused.
 */
function stopLeftovers(dataDir: string): void {
  const path = join(dataDir, "stack.json");
  if (!existsSync(path)) return;
  let recorded: { supervisor?: unknown; pids?: unknown[] } = {};
  try {
    recorded = JSON.parse(readFileSync(path, "utf8")) as typeof recorded;
  } catch {
    return;
  }
  const supervisor = recorded.supervisor;
  if (typeof supervisor === "number" && supervisor !== process.pid && isAlive(supervisor) && cmdline(supervisor).includes("start.js")) {
    throw new StackError(
      `Another local stack (process ${supervisor}) is running on ${dataDir}. Stop it first, or set DATA_DIR to start a second one.`,
    );
  }
  for (const pid of recorded.pids ?? []) {
    if (typeof pid !== "number") continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(resolve(dataDir)) || cmdline.includes(join(dataDir, "azurite"))) process.kill(pid, "SIGKILL");
    } catch {
      // Not running any more.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** A secret of the local stack, generated into DATA_DIR/auth on first use (mode 0600); its path. */
function localSecret(dataDir: string, name: string, generate: () => string): string {
  const dir = join(dataDir, "auth");
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, generate(), { mode: 0o600 });
  }
  return path;
}
