#!/usr/bin/env node
import { CommanderError, type Command } from "commander";
import { buildProgram } from "./program.js";
import { CliError, EXIT } from "./errors.js";

/**
 * `mm`: errors are one readable line (the ErrorResponse's message for API errors) and an exit
 * code; a stack trace only with -v, for bugs of mm itself.
 */
const program = buildProgram();
const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
for (const command of everyCommand(program)) command.exitOverride().showHelpAfterError("(add --help for usage)");
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and --version exit 0; commander already printed its usage error.
    process.exitCode =
      err.exitCode === 0
        ? 0
        : err.code === "commander.help" || err.code === "commander.helpDisplayed" || err.code === "commander.version"
          ? 0
          : err.exitCode === 1
            ? EXIT.usage
            : err.exitCode;
  } else if (err instanceof CliError) {
    process.stderr.write(`mm: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    const verbose = process.argv.includes("-v") || process.argv.includes("--verbose");
    process.stderr.write(
      `mm: ${err instanceof Error ? err.message : String(err)}\n${verbose && err instanceof Error && err.stack ? `${err.stack}\n` : ""}`,
    );
    process.exitCode = EXIT.failed;
  }
}
