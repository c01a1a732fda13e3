import { startDurableCosmos } from "./durable-cosmos-server.js";

/** Runs the durable Cosmos DB emulator as a process: `node main.js <dataDir> <port>`. */
const [dataDir, port] = process.argv.slice(2);
if (!dataDir) {
  console.error("usage: node devhost/cosmos/main.js <dataDir> [port]");
  process.exit(64);
}
const cosmos = await startDurableCosmos({ dataDir, port: Number(port ?? 0) });
const ready = { ready: true, endpoint: cosmos.endpoint, recovered: cosmos.recovered };
if (process.send) process.send(ready);
else console.log(JSON.stringify(ready));
const stop = (): void => void cosmos.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// Started by the local stack: go when it goes, even if it was killed without a word.
process.on("disconnect", stop);
