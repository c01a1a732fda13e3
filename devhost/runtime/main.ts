import { readFileSync } from "node:fs";
import { startRuntime } from "./runtime.js";
import { announceReady, stopOnSignals } from "../child-lifecycle.js";

/**
 * The local compute runtime as a process (started by the local stack):
 * `node main.js <dataDir> <controlPort> <gatewayPort>`, the control token in
 * LOCAL_RUNTIME_TOKEN_FILE, the interpreter that runs drivers in PYTHON.
 */
const [dataDir, controlPort, gatewayPort] = process.argv.slice(2);
if (!dataDir || !controlPort || !gatewayPort || !process.env.LOCAL_RUNTIME_TOKEN_FILE) {
  console.error("usage: LOCAL_RUNTIME_TOKEN_FILE=<file> node devhost/runtime/main.js <dataDir> <controlPort> <gatewayPort>");
  process.exit(64);
}
const runtime = await startRuntime({
  dataDir,
  controlPort: Number(controlPort),
  gatewayPort: Number(gatewayPort),
  controlToken: readFileSync(process.env.LOCAL_RUNTIME_TOKEN_FILE, "utf8").trim(),
  python: process.env.PYTHON ?? "python3",
  storageConnection: process.env.AzureWebJobsStorage,
});
announceReady({ services: runtime.services.size });
stopOnSignals(() => runtime.close(), 8000);
