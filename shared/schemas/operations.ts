import { z } from "zod";

/** The queue message that asks a worker for an operation's work: the same for every kind. */
export const operationMessage = z.object({ operationId: z.string().min(1), accountPath: z.string().min(1) });
export type OperationMessage = z.output<typeof operationMessage>;
