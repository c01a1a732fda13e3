import { createServer } from "node:http";
import { CosmosClient } from "@azure/cosmos";

/**
 * The least an HTTP API in front of the store can do for `GET models/{id}`: a bare node:http
 * server making the same two point reads (account, model) with @azure/cosmos and answering the
 * model as JSON; no framework, no auth, no validation. The `host-overhead` benchmark holds the
 * local Functions host against it, to tell what the host and the programming model cost apart
 * from what any HTTP hop costs.
 *
 * `node bare-api-server.js <cosmos endpoint> <account path> <its resources' partition key>`; sends its port over IPC.
 */
const [endpoint, path, pk] = process.argv.slice(2) as [string, string, string];
const container = new CosmosClient({ endpoint, key: Buffer.from("local-emulator").toString("base64") })
  .database("modelmanagement")
  .container("resources");

const server = createServer((req, res) => {
  const id = (req.url ?? "").split("?")[0]!.split("/").pop() ?? "";
  void (async () => {
    const { resource: account } = await container.item("account", path).read();
    const { resource: model } = await container.item(id, pk).read();
    res.statusCode = account && model ? 200 : 404;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(model ?? {}));
  })().catch(() => {
    res.statusCode = 500;
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("disconnect", () => process.exit(0));
