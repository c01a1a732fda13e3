import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PortInUseError, startFunctionsHost } from "./functions-host.js";
import { stopOnSignals } from "../child-lifecycle.js";
import { BlobServiceClient } from "@azure/storage-blob";
import { AzuriteBlobEvents, parseBlobEventSubscriptions } from "./azurite-blob-events.js";
import type { RpcLogLevel } from "./core-types.js";

/**
 * The local Functions host as a process:
 * `node dist/devhost/functions-host/main.js [--app-dir DIR] [--port 7071] [--jwks FILE]`.
 * App settings come from the environment, then from the app's local.settings.json `Values`;
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT bounds request bodies (as in Azure), and Event Grid
 * deliveries must carry EVENTGRID_EXTENSION_KEY as `code` (Azure's `eventgrid_extension` key).
 */
const { values } = parseArgs({
  options: {
    "app-dir": { type: "string", default: "." },
    port: { type: "string", default: process.env.FUNCTIONS_HTTP_PORT ?? "7071" },
    jwks: { type: "string" },
  },
});
const appDir = resolve(values["app-dir"]);
loadLocalSettings(appDir);

const levels: RpcLogLevel[] = ["trace", "debug", "information", "warning", "error", "critical"];
const minLevel = levels.indexOf((process.env.HOST_LOG_LEVEL ?? "information").toLowerCase() as RpcLogLevel);
const log = (level: RpcLogLevel, category: string, msg: string): void => {
  if (levels.indexOf(level) < minLevel) return;
  const line = `[${new Date().toISOString()}] ${level.padEnd(11)} ${category}: ${msg}`;
  (levels.indexOf(level) >= levels.indexOf("warning") ? process.stderr : process.stdout).write(line + "\n");
};

// A promise an app forgot to handle is the app's bug: log it loudly, but one function's bug
// does not take the whole local stack down.
process.on("unhandledRejection", (reason) =>
  log("critical", "system", `Unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`),
);

try {
  const bodyLimit = process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  const host = await startFunctionsHost({
    appDir,
    port: Number(values.port),
    jwksPath: values.jwks,
    ...(bodyLimit ? { maxRequestBytes: Number(bodyLimit) } : {}),
    ...(process.env.EVENTGRID_EXTENSION_KEY ? { eventGridKey: process.env.EVENTGRID_EXTENSION_KEY } : {}),
    log,
  });
  const ready = { ready: true, baseUrl: host.baseUrl, functions: host.functions };
  if (process.send) process.send(ready);
  else {
    console.log(`Functions host listening on ${host.baseUrl}`);
    for (const f of host.functions) console.log(`  ${f.name} [${f.trigger}] ${f.detail}`);
  }
  const blobEvents = startBlobEvents(host.baseUrl);
  stopOnSignals(async () => {
    await blobEvents?.stop();
    await host.close();
  });
} catch (err) {
  const message =
    err instanceof PortInUseError
      ? `${err.message} Stop what uses it, or choose another port.`
      : String(err instanceof Error ? err.stack : err);
  console.error(`The Functions host could not start: ${message}`);
  process.exit(err instanceof PortInUseError ? 98 : 1);
}

/**
 * Event Grid for Azurite (LOCAL_BLOB_EVENTS=<container>=<function>,…): new blobs of the app's
 * storage (AzureWebJobsStorage) become BlobCreated events on the host's own webhook.
 */
function startBlobEvents(hostBaseUrl: string): AzuriteBlobEvents | undefined {
  const subscriptions = parseBlobEventSubscriptions(process.env.LOCAL_BLOB_EVENTS);
  if (subscriptions.length === 0) return undefined;
  const connection = process.env.AzureWebJobsStorage;
  if (!connection) throw new Error("LOCAL_BLOB_EVENTS needs AzureWebJobsStorage, the storage account to watch.");
  const eventGridKey = process.env.EVENTGRID_EXTENSION_KEY;
  if (!eventGridKey) throw new Error("LOCAL_BLOB_EVENTS needs EVENTGRID_EXTENSION_KEY, the key its deliveries carry.");
  const events = new AzuriteBlobEvents({
    blobs: BlobServiceClient.fromConnectionString(connection),
    subscriptions,
    hostBaseUrl,
    eventGridKey,
    stateFile: process.env.LOCAL_BLOB_EVENTS_STATE ?? join(appDir, ".blob-events.json"),
    log,
  });
  events.start();
  return events;
}

function loadLocalSettings(dir: string): void {
  const path = join(dir, "local.settings.json");
  if (!existsSync(path)) return;
  const settings = JSON.parse(readFileSync(path, "utf8")) as { Values?: Record<string, string> };
  for (const [k, v] of Object.entries(settings.Values ?? {})) {
    if (process.env[k] === undefined) process.env[k] = String(v);
  }
}
