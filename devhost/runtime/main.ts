import { readFileSync } from "node:fs";
import { startRuntime } from "./runtime.js";
import { announceReady, stopOnSignals } from "../child-lifecycle.js";

/**
 * The local compute runtime as a process (started by the local stack):
 * `node main.js <dataDir> <controlPort> <gatewayPort>`, the control token in
 * LOCAL_RUNTIME_TOKEN_FILE, the interpreter that runs drivers in PYTHON, a scoring request's
 * deadline in SCORING_REQUEST_TIMEOUT_SECONDS (60), whether scoring connections are handed to
 * replicas in SCORING_CONNECTION_HANDOFF (`on`, the default, or `off`).
 */
const [dataDir, controlPort, gatewayPort] = process.argv.slice(2);
if (!dataDir || !controlPort || !gatewayPort || !process.env.LOCAL_RUNTIME_TOKEN_FILE) {
  console.error("usage: LOCAL_RUNTIME_TOKEN_FILE=<file> node devhost/runtime/main.js <dataDir> <controlPort> <gatewayPort>");
  process.exit(64);
}
const handoff = process.env.SCORING_CONNECTION_HANDOFF ?? "on";
if (handoff !== "on" && handoff !== "off") {
  console.error(`SCORING_CONNECTION_HANDOFF is "${handoff}": set it to on or off.`);
  process.exit(64);
}
const runtime = await startRuntime({
  dataDir,
  controlPort: Number(controlPort),
  gatewayPort: Number(gatewayPort),
  controlToken: readFileSync(process.env.LOCAL_RUNTIME_TOKEN_FILE, "utf8").trim(),
  python: process.env.PYTHON ?? "python3",
  storageConnection: process.env.AzureWebJobsStorage,
  requestTimeoutMs: 1000 * Number(process.env.SCORING_REQUEST_TIMEOUT_SECONDS ?? 60),
  sandbox: process.env.RUNTIME_SANDBOX,
  connectionHandoff: handoff === "on",
  ...(process.env.RUNTIME_REPLICA_MAX_PROCESSES ? { maxProcessesPerReplica: Number(process.env.RUNTIME_REPLICA_MAX_PROCESSES) } : {}),
});
announceReady({
  services: runtime.services.size,
  sandbox: runtime.sandbox.kind,
  ...(runtime.sandbox.warning ? { warning: runtime.sandbox.warning } : {}),
  limits: runtime.cgroups.kind,
  ...(runtime.cgroups.warning ? { limitsWarning: runtime.cgroups.warning } : {}),
});
stopOnSignals(() => runtime.close(), 8000);
