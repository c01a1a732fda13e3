import { randomUUID } from "node:crypto";
import type { OperationDocument, StoredDocument, WithEtag } from "../store/documents.js";
import type { OperationMessage } from "../schemas/operations.js";
import {
  ContinueLater,
  OperationFailure,
  type AttemptContext,
  type OperationKind,
  type OperationType,
  type Outcome,
} from "./operation-kind.js";

const TERMINAL = new Set(["Succeeded", "Failed", "Cancelled"]);

function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

/** The operations as the operations module keeps them (the Cosmos OperationRepository is one). */
export interface OperationStore {
  get(pk: string, id: string): Promise<WithEtag<OperationDocument> | undefined>;
  /** Replaces the operation if unchanged since read; undefined when it changed meanwhile. */
  replace(op: WithEtag<OperationDocument>): Promise<WithEtag<OperationDocument> | undefined>;
  /** Writes the operation and its resource's documents together, each only if unchanged; false when any changed. */
  commit(op: WithEtag<OperationDocument>, resources: WithEtag<StoredDocument>[]): Promise<boolean>;
  /** Unfinished operations whose worker has shown no sign of life since `before` (and not due later than `now`), across accounts. */
  listStalled(before: string, now: string, limit: number): Promise<WithEtag<OperationDocument>[]>;
}

interface OperationsOptions {
  store: OperationStore;
  // Kinds differ in what they work on and produce; the module handles any of them alike.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kinds: OperationKind<any, any>[];
  /** How often a running attempt tells the sweeper it is alive. */
  heartbeatMs: number;
  /** An unfinished operation with no sign of life for this long is taken up again … */
  stallMs: number;
  /** … unless it was created this long ago: then it ends Failed. */
  deadlineMs: number;
}

/** How many times a start or finish re-reads when a document changed under it. */
const WRITE_ATTEMPTS = 10;

/**
 * Owns the life of every asynchronous operation, whatever its kind: the operation document's
 * shape, enqueueing its work, starting an attempt together with its resource (ETag-checked),
 * heartbeats and attempts, finishing (the operation and its resource in one write), failing it
 * when its message is poisoned, and the sweeper that takes up stalled operations and fails those
 * past their deadline. A kind (operation-kind.ts) brings only what is its own.
 */
export class Operations {
  readonly #kinds: Map<OperationType, OperationKind<unknown, unknown>>;

  constructor(private readonly options: OperationsOptions) {
    this.#kinds = new Map(options.kinds.map((k) => [k.type, k]));
  }

  #kind(type: OperationType): OperationKind<unknown, unknown> {
    const kind = this.#kinds.get(type);
    if (!kind) throw new Error(`No operation kind ${type} is configured.`);
    return kind;
  }

  /** An operation as it is now (what `GET operations/{id}` shows). */
  get(pk: string, id: string): Promise<OperationDocument | undefined> {
    return this.options.store.get(pk, id);
  }

  /** A new operation (NotStarted) on a resource, for the resource's repository to write with it. */
  static create(
    type: OperationType,
    pk: string,
    resource: { id: string; path: string },
    extra: Pick<OperationDocument, "deploymentId" | "purge" | "notBefore"> = {},
  ): OperationDocument {
    return {
      id: randomUUID(),
      pk,
      kind: "operation",
      operationType: type,
      state: "NotStarted",
      createdTime: new Date().toISOString(),
      resourcePath: resource.path,
      resourceId: resource.id,
      attempts: 0,
      ...extra,
    };
  }

  /**
   * Sends a written operation's work to its queue. A failed send loses nothing: the operation
   * is written, and the sweeper enqueues its work once it stalls.
   */
  async enqueue(op: OperationDocument, warn: (message: string) => void): Promise<void> {
    try {
      await this.#kind(op.operationType).queue.send(messageOf(op));
    } catch (err) {
      warn(`Operation ${op.id} was accepted but not enqueued (the sweeper will enqueue it): ${messageText(err)}`);
    }
  }

  /**
   * Runs one attempt of the operation a message names. Idempotent: a finished operation is left
   * alone, and a kind's resource is fixed when the operation is created, so a redelivered message
   * never makes a second resource. An OperationFailure ends the operation Failed; any other error
   * is kept on the operation (`lastAttemptError`) and rethrown for the host to retry, until the
   * message is poisoned.
   */
  async execute(type: OperationType, message: OperationMessage, warn: (message: string) => void): Promise<void> {
    const kind = this.#kind(type);
    const started = await this.#start(kind, message, warn);
    if (!started) return;
    const { subject, ctx } = started;
    const { pk, id } = ctx.operation;
    const beating = setInterval(() => void this.#heartbeat(pk, id, warn), this.options.heartbeatMs);
    try {
      let outcome: Outcome<unknown>;
      try {
        outcome = { state: "Succeeded", result: await kind.work(subject, ctx) };
        await kind.after?.(subject, ctx, undefined);
      } catch (err) {
        await kind.after?.(subject, ctx, err);
        if (err instanceof ContinueLater) return await this.#park(kind, pk, id, err, warn);
        if (!(err instanceof OperationFailure)) {
          await this.#recordAttemptError(pk, id, err);
          throw err;
        }
        outcome = { state: "Failed", error: { code: err.code, message: err.message, statusCode: 400 } };
      }
      await this.#finish(kind, pk, id, outcome, subject);
    } finally {
      clearInterval(beating);
    }
  }

  /**
   * Runs a written operation at once, in the caller (a purge as its DELETE answers). Should it
   * fail, or the process die, the operation is left to the sweeper, which takes it up again.
   */
  async runNow(op: OperationDocument, warn: (message: string) => void): Promise<void> {
    await this.execute(op.operationType, messageOf(op), warn).catch((err: unknown) =>
      warn(`Operation ${op.id} will be taken up again by the sweeper: ${messageText(err)}`),
    );
  }

  /** A message whose every attempt failed: its operation ends Failed, with the last attempt's error. */
  async poisoned(type: OperationType, message: OperationMessage): Promise<void> {
    const kind = this.#kind(type);
    const op = await this.options.store.get(message.accountPath, message.operationId);
    if (!op || isTerminal(op.state)) return;
    const last = op.lastAttemptError ? `; the last one: ${op.lastAttemptError}` : "";
    await this.#finish(
      kind,
      op.pk,
      op.id,
      { state: "Failed", error: { code: kind.poisonCode, message: `The ${kind.noun} failed on every attempt${last}.`, statusCode: 500 } },
      undefined,
    );
  }

  /**
   * Takes up operations whose worker has shown no sign of life for `stallMs` (a crash, a lost
   * message): past their deadline they end Failed, otherwise their work is enqueued again
   * (attempts are idempotent, so a duplicate is harmless). Nothing acknowledged stays pending
   * forever.
   */
  async sweep(now = Date.now()): Promise<{ requeued: number; failed: number }> {
    const { store, stallMs, deadlineMs } = this.options;
    const stalled = await store.listStalled(new Date(now - stallMs).toISOString(), new Date(now).toISOString(), 100);
    let requeued = 0;
    let failed = 0;
    for (const op of stalled) {
      const kind = this.#kinds.get(op.operationType);
      if (!kind) continue;
      if (Date.parse(op.createdTime) < now - deadlineMs) {
        const last = op.lastAttemptError ? `; its last attempt failed: ${op.lastAttemptError}` : "";
        await this.#finish(
          kind,
          op.pk,
          op.id,
          {
            state: "Failed",
            error: {
              code: "OperationTimedOut",
              message: `The ${kind.noun} did not finish within ${Math.round(deadlineMs / 1000)} s${last}.`,
              statusCode: 500,
            },
          },
          undefined,
        );
        failed++;
        continue;
      }
      // Marked seen first, so that the next sweep leaves it alone for another stall period.
      if (!(await store.replace({ ...op, heartbeatAt: new Date(now).toISOString() }))) continue;
      await kind.queue.send(messageOf(op));
      requeued++;
    }
    return { requeued, failed };
  }

  /** Marks the operation Running with its resource as the kind has it run, in one ETag-checked write. */
  async #start(
    kind: OperationKind<unknown, unknown>,
    message: OperationMessage,
    warn: (m: string) => void,
  ): Promise<{ subject: unknown; ctx: AttemptContext } | undefined> {
    const { store } = this.options;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const op = await store.get(message.accountPath, message.operationId);
      if (!op || isTerminal(op.state)) return undefined;
      // Taking parked work up again is the same attempt going on, not a new one.
      const resuming = op.state === "Running" && op.checkpoint !== undefined;
      const running: WithEtag<OperationDocument> = {
        ...op,
        state: "Running",
        heartbeatAt: new Date().toISOString(),
        attempts: (op.attempts ?? 0) + (resuming ? 0 : 1),
      };
      const ctx: AttemptContext = { operation: running, warn, ...(op.checkpoint ? { checkpoint: op.checkpoint } : {}) };
      let subject: unknown;
      try {
        subject = await kind.load(ctx);
      } catch (err) {
        if (!(err instanceof OperationFailure)) throw err;
        await this.#finish(
          kind,
          op.pk,
          op.id,
          { state: "Failed", error: { code: err.code, message: err.message, statusCode: 400 } },
          undefined,
        );
        return undefined;
      }
      if (await store.commit(running, await kind.running(subject, ctx))) return { subject, ctx };
    }
    throw new Error(`Operation ${message.operationId} kept changing while it was being started.`);
  }

  /** Ends the operation and its resource together; an operation already ended is left as it is. */
  async #finish(kind: OperationKind<unknown, unknown>, pk: string, id: string, outcome: Outcome<unknown>, subject: unknown): Promise<void> {
    const { store } = this.options;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const op = await store.get(pk, id);
      if (!op || isTerminal(op.state)) return;
      const ended: WithEtag<OperationDocument> = {
        ...op,
        state: outcome.state,
        endTime: new Date().toISOString(),
        ...(outcome.state === "Failed" ? { error: outcome.error } : {}),
      };
      if (await store.commit(ended, await kind.ended(ended, outcome, subject))) return;
    }
    throw new Error(`Operation ${id} kept changing while it was being finished.`);
  }

  /**
   * Keeps parked work's checkpoint on the operation (still Running), and sends the message that
   * takes it up again once the wait is over. Should the send fail, the sweeper sends it: the
   * operation is due again at `notBefore`, and stalls a stall period after that.
   */
  async #park(
    kind: OperationKind<unknown, unknown>,
    pk: string,
    id: string,
    later: ContinueLater,
    warn: (m: string) => void,
  ): Promise<void> {
    const { store } = this.options;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const op = await store.get(pk, id);
      if (!op || isTerminal(op.state)) return;
      const now = Date.now();
      const parked = await store.replace({
        ...op,
        checkpoint: later.checkpoint,
        heartbeatAt: new Date(now).toISOString(),
        notBefore: new Date(now + later.afterSeconds * 1000).toISOString(),
      });
      if (!parked) continue;
      try {
        await kind.queue.send(messageOf(op), { visibilityTimeoutSeconds: later.afterSeconds });
      } catch (err) {
        warn(`Operation ${id} was parked but its next message not sent (the sweeper will send it): ${messageText(err)}`);
      }
      return;
    }
    throw new Error(`Operation ${id} kept changing while it was being parked.`);
  }

  /** Tells the sweeper the worker is alive. A failed heartbeat is harmless: the next one comes soon. */
  async #heartbeat(pk: string, id: string, warn: (m: string) => void): Promise<void> {
    try {
      const op = await this.options.store.get(pk, id);
      if (op && op.state === "Running") await this.options.store.replace({ ...op, heartbeatAt: new Date().toISOString() });
    } catch (err) {
      warn(`heartbeat of operation ${id} failed: ${messageText(err)}`);
    }
  }

  /** Keeps an attempt's error on the operation, so that a poisoned or timed-out one can say why. */
  async #recordAttemptError(pk: string, id: string, err: unknown): Promise<void> {
    try {
      const op = await this.options.store.get(pk, id);
      if (op && !isTerminal(op.state)) await this.options.store.replace({ ...op, lastAttemptError: messageText(err) });
    } catch {
      // Best effort: the retry goes on regardless.
    }
  }
}

/** The work message of an operation. */
function messageOf(op: Pick<OperationDocument, "id" | "pk">): OperationMessage {
  return { operationId: op.id, accountPath: op.pk };
}

function messageText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
