import { resolve, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StackError, startStack } from "./stack.js";
import { API_VERSION } from "../shared/schemas/api-version.js";

/**
 * `npm start`: the whole service on this machine, on loopback. Settings: PORT (7071),
 * DATA_DIR (./.data), COSMOS_PORT (8081), AZURITE_BLOB_PORT (10000), AZURITE_QUEUE_PORT (10001),
 * SCORING_PORT (7080), RUNTIME_PORT (7079), PYTHON (python3: the interpreter that runs drivers).
 */
const started = Date.now();
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name}=${raw} is not a TCP port (1-65535).`);
    process.exit(64);
  }
  return value;
};
const dataDir = resolve(process.env.DATA_DIR || join(projectRoot, ".data"));
let shuttingDown = false;
let stopStack: ((interrupted: boolean) => Promise<void>) | undefined;
// Ctrl-C at any time, even while starting: stop what runs, then leave. At a terminal Ctrl-C
// reaches every process of the stack at once (Azurite starts closing by itself); a SIGINT or
// SIGTERM sent to this process (a script, a test) reaches only this one.
let interrupted = false;
const stop = (signal: NodeJS.Signals): void => {
  if (shuttingDown) return;
  shuttingDown = true;
  interrupted = signal === "SIGINT" && Boolean(process.stdin.isTTY || process.stdout.isTTY);
  console.log("\nStopping…");
  void (stopStack?.(interrupted) ?? Promise.resolve()).then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  const stack = await startStack({
    appDir: projectRoot,
    dataDir,
    port: port("PORT", 7071),
    cosmosPort: port("COSMOS_PORT", 8081),
    blobPort: port("AZURITE_BLOB_PORT", 10000),
    queuePort: port("AZURITE_QUEUE_PORT", 10001),
    scoringPort: port("SCORING_PORT", 7080),
    runtimePort: port("RUNTIME_PORT", 7079),
    onOutput: (source, line) => console.log(`[${source}] ${line}`),
    onChildExit: (source, code, signal, restartInMs) => {
      if (shuttingDown) return;
      // The API answers 503 Unavailable while it is away; nothing acknowledged is lost.
      console.error(`\n${source} stopped unexpectedly (${signal ?? `exit code ${code}`}); starting it again in ${restartInMs / 1000} s.`);
    },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const models = `${stack.apiBaseUrl}/${stack.accountPath}/models?api-version=${API_VERSION}`;
  const summary = [
    `Model Management is running (ready in ${seconds} s). Data: ${dataDir}`,
    ``,
    `  API          ${stack.apiBaseUrl}`,
    `  Health       ${stack.apiBaseUrl}/health`,
    `  Account      ${stack.accountPath}`,
    `  Cosmos DB    ${stack.cosmosEndpoint} (durable emulator)`,
    `  Azurite      blob ${stack.blobEndpoint}, queue ${stack.queueEndpoint}`,
    `  Scoring      ${stack.scoringBaseUrl}/api/v1/service/<name>/score (local compute runtime)`,
    `  Replicas     ${stack.replicaSandbox}`,
    `               ${stack.replicaLimits}`,
    ``,
    `Get a token:   npm run --silent token`,
    `Try:           curl -H "Authorization: Bearer $(npm run --silent token)" "${models}"`,
    ``,
    `Press Ctrl-C to stop.`,
  ];
  stopStack = (wasInterrupted) => stack.stop({ interrupted: wasInterrupted });
  if (shuttingDown) await stack.stop({ interrupted }).then(() => process.exit(0));
  console.log(summary.join("\n"));
  process.send?.({ ready: true, apiBaseUrl: stack.apiBaseUrl, seconds: Number(seconds) });
} catch (err) {
  if (err instanceof StackError) {
    console.error(`Cannot start: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
