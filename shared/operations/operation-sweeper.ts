import type { OperationRepository } from "../store/operation-repository.js";
import type { ErrorResponseBody, OperationDocument } from "../store/documents.js";


export interface SweepDeps {
  operations: OperationRepository;
  stallMs: number;
  deadlineMs: number;
  /** Re-enqueues the work of an operation (its message may be lost, or its worker died). */
  requeue(operation: OperationDocument): Promise<void>;
  /** Ends an operation (and its resource) Failed. */
  fail(operation: OperationDocument, error: ErrorResponseBody): Promise<void>;
}

/**
 * Finds unfinished operations whose worker has shown no sign of life for `stallMs`: past their
 * deadline they end Failed, otherwise their work is enqueued again (workers are idempotent, so a
 * duplicate is harmless). Nothing acknowledged stays pending forever, even when the stack was
 * killed in the middle of a build or a queue message was lost.
 */
export async function sweepOperations(deps: SweepDeps, now = Date.now()): Promise<{ requeued: number; failed: number }> {
  const stalled = await deps.operations.listStalled(new Date(now - deps.stallMs).toISOString(), 100);
  let requeued = 0;
  let failed = 0;
  for (const op of stalled) {
    if (Date.parse(op.createdTime) < now - deps.deadlineMs) {
      await deps.fail(op, {
        code: "OperationTimedOut",
        message: `The operation did not finish within ${Math.round(deps.deadlineMs / 1000)} s${op.lastAttemptError ? `; its last attempt failed: ${op.lastAttemptError}` : ""}.`,
        statusCode: 500,
      });
      failed++;
      continue;
    }
    // Mark it seen first, so that the next sweep leaves it alone for another stall period.
    const touched = await deps.operations.replace({ ...op, heartbeatAt: new Date(now).toISOString() });
    if (!touched) continue;
    await deps.requeue(op);
    requeued++;
  }
  return { requeued, failed };
}

/** The queue message that asks a worker for an operation's work (image builds and rollouts alike). */
export function workMessageOf(op: OperationDocument): { operationId: string; accountPath: string } {
  return { operationId: op.id, accountPath: op.pk };
}
