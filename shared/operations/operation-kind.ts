import type { OperationDocument, StoredDocument, WithEtag } from "../store/documents.js";
import type { ErrorResponse } from "../errors.js";
import type { OperationMessage } from "../schemas/operations.js";

export type OperationType = OperationDocument["operationType"];

/**
 * An operation that cannot succeed as asked (a missing asset, a driver whose init() fails): retrying
 * will not help, so it ends Failed with this code and message. Anything else a kind throws is
 * taken as passing and its message is retried.
 */
export class OperationFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "OperationFailure";
  }
}

/**
 * Work that goes on outside the app (an ACR Tasks run): the attempt stops here instead of
 * waiting, the operation keeps `checkpoint` and is taken up again in `afterSeconds`, by a new
 * message, so that no invocation has to outlive the work.
 */
export class ContinueLater extends Error {
  constructor(
    readonly checkpoint: Record<string, unknown>,
    readonly afterSeconds: number,
  ) {
    super(`the work goes on; taken up again in ${afterSeconds} s`);
    this.name = "ContinueLater";
  }
}

/** How an operation ended: its kind's result, or an error. */
export type Outcome<R> = { state: "Succeeded"; result: R } | { state: "Failed"; error: ErrorResponse };

/** What a kind's steps are told about the attempt in hand. */
export interface AttemptContext {
  operation: WithEtag<OperationDocument>;
  /** What parked work left to take up (ContinueLater), when this attempt takes it up. */
  checkpoint?: Record<string, unknown>;
  warn(message: string): void;
}

/** Where a kind's work messages go. */
export interface MessageQueue {
  /** Sends a message, visible at once or after `visibilityTimeoutSeconds`. */
  send(message: OperationMessage, options?: { visibilityTimeoutSeconds?: number }): Promise<void>;
}

/**
 * One kind of asynchronous operation (an image build, a service rollout, …): what it works on,
 * how that looks while it runs and once it ended, and its work. The operations module
 * (`operations.ts`) does the rest, the same for every kind: starting an attempt together with the
 * resource, heartbeats, attempts, finishing, poison messages and the sweeper.
 *
 * `Subject` is what one attempt works on (its resource as read, and whatever the attempt keeps,
 * such as a build log); `Result` is what the work returns for `ended` to record.
 */
export interface OperationKind<Subject, Result> {
  readonly type: OperationType;
  /** What its operations do, in messages: "image build", "deployment". */
  readonly noun: string;
  /** The queue its work messages go to. */
  readonly queue: MessageQueue;
  /** The error code of an operation whose every attempt failed. */
  readonly poisonCode: string;
  /** What the operation works on, read for one attempt. Throws OperationFailure when it is gone. */
  load(ctx: AttemptContext): Promise<Subject>;
  /** The subject's documents as they are once the attempt runs: written with the operation, or not at all. */
  running(subject: Subject, ctx: AttemptContext): Promise<WithEtag<StoredDocument>[]>;
  /** The work. Throws OperationFailure when it cannot succeed as asked, ContinueLater to be taken up again. */
  work(subject: Subject, ctx: AttemptContext): Promise<Result>;
  /** After the work, however it went (before the operation ends, or before the retry). */
  after?(subject: Subject, ctx: AttemptContext, error: unknown): Promise<void>;
  /**
   * The documents of the resource as the operation ends, read anew: written with the ended
   * operation, or not at all (then read again). `subject` is missing when the operation is ended
   * from outside an attempt (its message poisoned, its deadline passed).
   */
  ended(
    operation: WithEtag<OperationDocument>,
    outcome: Outcome<Result>,
    subject: Subject | undefined,
  ): Promise<WithEtag<StoredDocument>[]>;
}
