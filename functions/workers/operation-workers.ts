import type { InvocationContext } from "@azure/functions";
import { operationMessage } from "../../shared/schemas/operations.js";
import type { Operations } from "../../shared/operations/operations.js";
import type { OperationType } from "../../shared/operations/operation-kind.js";

type Deps = () => Promise<{ operations: Operations }>;

/** Queue trigger on an operation kind's queue: runs one attempt of the operation a message names. */
export const makeOperationWorker =
  (getDeps: Deps, type: OperationType) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    const parsed = operationMessage.safeParse(message);
    if (!parsed.success) {
      // Nothing can ever make this message work: say so and let it go.
      context.error(`Dropped a message that is not a ${type} operation's work: ${parsed.error.message}`);
      return;
    }
    await (await getDeps()).operations.execute(type, parsed.data, (m) => context.warn(m));
  };

/** Queue trigger on `<queue>-poison`: an operation whose every attempt failed ends Failed, saying why. */
export const makeOperationPoisonHandler =
  (getDeps: Deps, type: OperationType) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    const parsed = operationMessage.safeParse(message);
    if (!parsed.success) {
      context.error(`Dropped a poison message that is not a ${type} operation's work: ${parsed.error.message}`);
      return;
    }
    await (await getDeps()).operations.poisoned(type, parsed.data);
  };
