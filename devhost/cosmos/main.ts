import { startDurableCosmos } from "./durable-cosmos-server.js";
import { announceReady, stopOnSignals } from "../child-lifecycle.js";

/** Runs the durable Cosmos DB emulator as a process: `node main.js <dataDir> <port>`. */
const [dataDir, port] = process.argv.slice(2);
if (!dataDir) {
  console.error("usage: node devhost/cosmos/main.js <dataDir> [port]");
  process.exit(64);
}
const cosmos = await startDurableCosmos({ dataDir, port: Number(port ?? 0) });
announceReady({ endpoint: cosmos.endpoint, recovered: cosmos.recovered });
stopOnSignals(() => cosmos.close());
