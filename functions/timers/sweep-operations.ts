import type { InvocationContext } from "@azure/functions";
import type { Operations } from "../../shared/operations/operations.js";

/** Timer: takes up operations whose worker stopped (crash, lost message) and fails those past their deadline. */
export const makeOperationSweeper =
  (getDeps: () => Promise<{ operations: Operations }>) =>
  async (_timer: unknown, context: InvocationContext): Promise<void> => {
    const result = await (await getDeps()).operations.sweep();
    if (result.requeued || result.failed)
      context.log(`Operation sweep: ${result.requeued} taken up again, ${result.failed} failed past their deadline.`);
  };
