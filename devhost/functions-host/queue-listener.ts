import { QueueClient, QueueServiceClient, type DequeuedMessageItem } from "@azure/storage-queue";
import type { FunctionRegistry, RegisteredFunction } from "./core-api.js";
import type { RpcTypedData } from "./core-types.js";
import type { HostConfig } from "./host-config.js";
import { resolveSettingExpressions, resolveStorageConnection } from "./host-config.js";
import { invokeFunction } from "./invoker.js";
import { describe } from "./http-triggers.js";

/** Messages are received invisible for 10 minutes and renewed while the function runs (QueueListener.cs). */
const RECEIVE_VISIBILITY_S = 600;
const RENEW_EVERY_MS = (RECEIVE_VISIBILITY_S / 2) * 1000;
const MIN_POLL_MS = 100;

/**
 * Polls one queue for one queue-triggered function with the host's semantics: base64
 * messages, `dequeueCount` in trigger metadata, at most `batchSize` messages in flight, a
 * failing message made visible again after `visibilityTimeout`, and moved to `<queue>-poison`
 * once it has been dequeued `maxDequeueCount` times (or cannot be decoded).
 */
export class QueueListener {
  readonly queueName: string;
  get functionName(): string {
    return this.fn.metadata.name;
  }
  #queue: QueueClient;
  #poison: QueueClient;
  #inFlight = new Set<Promise<void>>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly fn: RegisteredFunction,
    private readonly config: HostConfig["queues"],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.queueName = resolveSettingExpressions(String(fn.trigger.options.queueName ?? ""), env).toLowerCase();
    const service = QueueServiceClient.fromConnectionString(resolveStorageConnection(fn.trigger.options.connection, env));
    this.#queue = service.getQueueClient(this.queueName);
    this.#poison = service.getQueueClient(`${this.queueName}-poison`);
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Stops polling and waits for the invocations under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(): Promise<void> {
    let delay = MIN_POLL_MS;
    let queueReady = false;
    while (!this.#stopped) {
      const room = this.config.batchSize - this.#inFlight.size;
      if (room <= 0 || this.#inFlight.size > this.config.newBatchThreshold) {
        await Promise.race([...this.#inFlight]);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        if (!queueReady) {
          await this.#queue.createIfNotExists();
          queueReady = true;
        }
        const received = await this.#queue.receiveMessages({
          numberOfMessages: Math.min(room, 32),
          visibilityTimeout: RECEIVE_VISIBILITY_S,
        });
        messages = received.receivedMessageItems;
      } catch (err) {
        this.registry.log("warning", "system:queue", `Polling queue "${this.queueName}" failed: ${describe(err)}`);
      }
      for (const message of messages) {
        const work = this.#process(message).finally(() => this.#inFlight.delete(work));
        this.#inFlight.add(work);
      }
      if (messages.length > 0) {
        delay = MIN_POLL_MS;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, this.config.maxPollingIntervalMs);
    }
  }

  async #process(message: DequeuedMessageItem): Promise<void> {
    let popReceipt = message.popReceipt;
    const name = this.fn.metadata.name;
    const body = this.#decode(message.messageText);
    if (body === undefined || message.dequeueCount > this.config.maxDequeueCount) {
      const why = body === undefined ? "it is not valid base64" : `it was dequeued ${message.dequeueCount} times`;
      this.registry.log("warning", `system:${name}`, `Message ${message.messageId} moved to "${this.#poison.name}": ${why}.`);
      await this.#moveToPoison(message, popReceipt);
      return;
    }
    const renew = setInterval(() => {
      this.#queue
        .updateMessage(message.messageId, popReceipt, undefined, RECEIVE_VISIBILITY_S)
        .then((r) => {
          if (r.popReceipt) popReceipt = r.popReceipt;
        })
        .catch(() => undefined);
    }, RENEW_EVERY_MS);
    let outcome;
    try {
      outcome = await invokeFunction(this.registry, this.fn, {
        triggerData: { string: body },
        triggerMetadata: this.#metadata(message, body),
      });
    } finally {
      clearInterval(renew);
    }
    try {
      if (outcome.ok) {
        await this.#queue.deleteMessage(message.messageId, popReceipt);
        return;
      }
      this.registry.log(
        "error",
        `system:${name}`,
        `Executed '${name}' (Failed, Id=${outcome.invocationId}, dequeueCount=${message.dequeueCount}): ${describe(outcome.error)}`,
      );
      if (message.dequeueCount >= this.config.maxDequeueCount) {
        this.registry.log(
          "warning",
          `system:${name}`,
          `Message ${message.messageId} has reached MaxDequeueCount of ${this.config.maxDequeueCount}. Moving message to queue '${this.#poison.name}'.`,
        );
        await this.#moveToPoison(message, popReceipt);
      } else {
        await this.#queue.updateMessage(message.messageId, popReceipt, undefined, Math.floor(this.config.visibilityTimeoutMs / 1000));
      }
    } catch (err) {
      // The message stays invisible until its lease ends, then comes back: nothing is lost.
      this.registry.log("warning", `system:${name}`, `Could not settle message ${message.messageId}: ${describe(err)}`);
    }
  }

  #decode(text: string): string | undefined {
    if (this.config.messageEncoding === "none") return text;
    const compact = text.replace(/\s+/g, "");
    if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
    return Buffer.from(compact, "base64").toString("utf8");
  }

  #metadata(message: DequeuedMessageItem, body: string): Record<string, RpcTypedData> {
    const date = (d: Date | undefined): RpcTypedData => ({ json: JSON.stringify(d ? d.toISOString() : null) });
    return {
      QueueTrigger: { string: body },
      DequeueCount: { json: String(message.dequeueCount) },
      ExpirationTime: date(message.expiresOn),
      Id: { string: message.messageId },
      InsertionTime: date(message.insertedOn),
      NextVisibleTime: date(message.nextVisibleOn),
      PopReceipt: { string: message.popReceipt },
    };
  }

  async #moveToPoison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    await this.#poison.createIfNotExists();
    await this.#poison.sendMessage(message.messageText);
    await this.#queue.deleteMessage(message.messageId, popReceipt);
  }
}
