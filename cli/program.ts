import { Command, Option } from "commander";
import { accountCommand } from "./commands/accounts.js";
import { completionCommand } from "./commands/completion.js";
import { imageCommand } from "./commands/images.js";
import { loginCommand, logoutCommand } from "./commands/login.js";
import { manifestCommand } from "./commands/manifests.js";
import { modelCommand } from "./commands/models.js";
import { operationCommand } from "./commands/operations.js";
import { serviceCommand } from "./commands/services.js";
import { OUTPUT_FORMATS } from "./output.js";

/** The `mm` command tree: the 2017 `az ml` commands, against this service's API. */
export function buildProgram(): Command {
  const program = new Command("mm")
    .description("Model management: register models, build images, deploy and score real-time services")
    .version(process.env.npm_package_version ?? "0.1.0", "--version")
    .option("--endpoint <url>", "the service's address or its /api base (default: what mm login saved, else the local stack)")
    .option("--account <account>", "the account: subscriptions/<id>/resourceGroups/<group>/accounts/<name> (default: mm account set)")
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS))
    .option("--query <jmespath>", 'a JMESPath query over the output, e.g. "[].{name: name, version: version}"')
    .option("-v, --verbose", "say what is done: requests, uploads, timings")
    .option(
      "--data-dir <dir>",
      "the local stack's data directory (default: $DATA_DIR, else ./.data where a stack ran, else this project's .data)",
    )
    .showHelpAfterError("(add --help for usage)")
    .enablePositionalOptions(false);
  program.addCommand(loginCommand());
  program.addCommand(logoutCommand());
  program.addCommand(accountCommand());
  program.addCommand(modelCommand());
  program.addCommand(manifestCommand());
  program.addCommand(imageCommand());
  program.addCommand(serviceCommand());
  program.addCommand(operationCommand());
  program.addCommand(completionCommand(() => program));
  return program;
}
