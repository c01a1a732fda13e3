import type { OperationRepository } from "../store/operation-repository.js";

const TERMINAL = new Set(["Succeeded", "Failed", "Cancelled"]);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

/** Tells the sweeper a worker is alive. A failed heartbeat is harmless: the next one comes soon. */
export async function heartbeat(operations: OperationRepository, pk: string, operationId: string, warn: (m: string) => void): Promise<void> {
  try {
    const op = await operations.get(pk, operationId);
    if (op && op.state === "Running") await operations.replace({ ...op, heartbeatAt: new Date().toISOString() });
  } catch (err) {
    warn(`heartbeat of operation ${operationId} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Keeps an attempt's error on the operation, so that the poison handler can say why it gave up. */
export async function recordAttemptError(operations: OperationRepository, pk: string, operationId: string, err: unknown): Promise<void> {
  try {
    const op = await operations.get(pk, operationId);
    if (op && !TERMINAL.has(op.state)) await operations.replace({ ...op, lastAttemptError: err instanceof Error ? err.message : String(err) });
  } catch {
    // Best effort: the retry goes on regardless.
  }
}
