import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError } from "../errors.js";

/**
 * `mm <noun> delete -i <id>`: asks first when a person is at a terminal (`--yes` skips it;
 * a script, with no terminal, is never asked), then prints `{id, deleted}` like any other result.
 * The service refuses (409 ResourceInUse) what is still used, naming the users.
 */
export function addDeleteCommand(parent: Command, noun: "model" | "manifest" | "image", collection: string, uses: string): void {
  parent
    .command("delete")
    .description(`Delete a ${noun} (refused while ${uses})`)
    .requiredOption("-i, --id <id>", `the ${noun}'s id`)
    .option("-y, --yes", "delete without asking")
    .action(async (opts: { id: string; yes?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      if (!opts.yes && process.stdin.isTTY && process.stderr.isTTY) {
        const found = await ctx.api.call<{ name?: string; version?: number }>("GET", `${collection}/${encodeURIComponent(opts.id)}`, {
          allow: [404],
        });
        if (found.status !== 404) {
          const { name, version } = found.body;
          if (!(await confirm(`Delete ${noun} ${name} v${version} (${opts.id})? [y/N] `)))
            throw new CliError(`Nothing was deleted (not confirmed; --yes skips the question).`);
        }
      }
      const answer = await ctx.api.call("DELETE", `${collection}/${encodeURIComponent(opts.id)}`);
      if (answer.status === 204) ctx.note(`There is no ${noun} ${opts.id} (already deleted?).`);
      ctx.print({ id: opts.id, deleted: answer.status !== 204 });
    });
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
