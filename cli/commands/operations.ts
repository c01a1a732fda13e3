import { Command, Option } from "commander";
import { contextOf, type Context } from "../context.js";
import { CliError } from "../errors.js";
import { waitForOperation, type OperationStatus } from "../wait.js";
import { OPERATION_VIEW } from "./views.js";
import { positiveInt } from "./options.js";

export interface WaitFlags {
  wait: boolean;
  timeout: number;
}

/** `--no-wait` and `--timeout`, on every command that starts an operation. */
export function addWaitOptions(command: Command): Command {
  return command
    .option("--no-wait", "return the operation id at once instead of waiting")
    .addOption(new Option("--timeout <seconds>", "stop waiting after this long (the work goes on)").argParser(positiveInt).default(1800));
}

/** Waits for an operation and fails the command (exit 1, the operation's own error) unless it succeeded. */
export async function settle(
  ctx: Context,
  operationId: string,
  flags: WaitFlags,
  label: string,
  followImageLog?: string,
): Promise<OperationStatus> {
  const status = await waitForOperation(ctx.api, operationId, {
    timeoutSeconds: flags.timeout,
    pollMs: pollMs(),
    label,
    ...(followImageLog ? { followImageLog } : {}),
  });
  if (status.state !== "Succeeded") {
    throw new CliError(
      `${label} ${status.state.toLowerCase()}: ${status.error?.message ?? "the operation gave no reason"}${status.error?.code ? ` (${status.error.code})` : ""}`,
      1,
      status.error?.code,
    );
  }
  return status;
}

/** Polling period: 1 s (the 2017 CLI polled every 5 s); MM_POLL_MS tunes it. */
function pollMs(): number {
  const v = Number(process.env.MM_POLL_MS);
  return Number.isFinite(v) && v >= 100 ? v : 1000;
}

/** The id at the end of an operation's resourceLocation (…/images/<id>?api-version=…). */
export function resourceIdOf(status: Pick<OperationStatus, "resourceLocation">): string {
  return new URL(status.resourceLocation ?? "", "http://x").pathname.split("/").pop() ?? "";
}

export function operationCommand(): Command {
  const operation = new Command("operation").description("Follow asynchronous operations (image builds, service rollouts)");
  operation
    .command("show")
    .description("Show an operation's state")
    .requiredOption("-i, --id <id>", "the operation's id")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.get(`operations/${encodeURIComponent(opts.id)}`), OPERATION_VIEW);
    });
  operation
    .command("wait")
    .description("Wait for an operation to end; exit 1 unless it succeeded")
    .requiredOption("-i, --id <id>", "the operation's id")
    .addOption(new Option("--timeout <seconds>", "stop waiting after this long").argParser(positiveInt).default(1800))
    .action(async (opts: { id: string; timeout: number }, command: Command) => {
      const ctx = contextOf(command);
      const first = await ctx.api.get<OperationStatus>(`operations/${encodeURIComponent(opts.id)}`);
      const follow = first.operationType === "Image" ? resourceIdOf(first) : undefined;
      const status = await settle(
        ctx,
        opts.id,
        { wait: true, timeout: opts.timeout },
        `${first.operationType.toLowerCase()} operation`,
        follow,
      );
      ctx.print(status, OPERATION_VIEW);
    });
  return operation;
}
