import { Command } from "commander";
import { parseAccountPath } from "../../shared/account-ref.js";
import { contextOf, normalizeAccount } from "../context.js";
import { saveProfile, resolveProfile } from "../settings.js";
import { ACCOUNT_VIEW } from "./views.js";

export function accountCommand(): Command {
  const account = new Command("account").description("Model management accounts: show, list, create, delete, and the default one");

  account
    .command("show", { isDefault: true })
    .description("Show the account in force (the default one, or --account)")
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.get("", {}), ACCOUNT_VIEW);
    });

  account
    .command("list")
    .description("List the accounts of the resource group you have a role in")
    .option("-g, --resource-group <name>", "another resource group of the same subscription")
    .action(async (opts: { resourceGroup?: string }, command: Command) => {
      const ctx = contextOf(command);
      const ref = parseAccountPath(ctx.accountPath);
      ctx.print(
        await ctx.api.list(
          `/subscriptions/${ref.subscriptionId}/resourceGroups/${opts.resourceGroup ?? ref.resourceGroupName}/accounts`,
          {},
        ),
        ACCOUNT_VIEW,
      );
    });

  account
    .command("create")
    .description("Create an account (you become its Owner); --account names it")
    .option("-l, --location <location>", "where it is, e.g. eastus2")
    .option("--description <text>", "a description")
    .action(async (opts: { location?: string; description?: string }, command: Command) => {
      const ctx = contextOf(command);
      const body = {
        ...(opts.location ? { location: opts.location } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      };
      ctx.print((await ctx.api.call("PUT", "", { body })).body, ACCOUNT_VIEW);
    });

  account
    .command("delete")
    .description("Delete the account named by --account (it must have no services)")
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      await ctx.api.call("DELETE", "");
      ctx.note(`Deleted account ${ctx.accountPath}.`);
    });

  account
    .command("set")
    .description("Make an account the default of later commands")
    .argument("<account>", "subscriptions/<id>/resourceGroups/<group>/accounts/<name>, or <id>/<group>/<name>")
    .action((value: string, _opts: unknown, command: Command) => {
      const path = normalizeAccount(value);
      const g = command.optsWithGlobals<{ dataDir?: string; endpoint?: string }>();
      // The account becomes the default of the endpoint in force (flags, then environment, then the saved profile).
      const { profile } = resolveProfile({ endpoint: g.endpoint, dataDir: g.dataDir });
      saveProfile({ ...profile, account: path });
      process.stderr.write(`Commands now use ${path}.\n`);
    });
  return account;
}
