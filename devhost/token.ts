import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openLocalIssuer } from "./local-issuer.js";

/**
 * `npm run --silent token [-- --principal <id>] [--name <name>] [--ttl <seconds>]`: prints a
 * bearer token of the local issuer (for the local user by default, Owner of the default account).
 */
const { values } = parseArgs({
  options: {
    principal: { type: "string" },
    name: { type: "string" },
    ttl: { type: "string" },
  },
});
const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) {
  console.error("--ttl must be a positive number of seconds.");
  process.exit(64);
}
const issuer = await openLocalIssuer(resolve(process.env.DATA_DIR ?? ".data"));
process.stdout.write((await issuer.mint({ principalId: values.principal, name: values.name, ttlSeconds: ttl })) + "\n");
