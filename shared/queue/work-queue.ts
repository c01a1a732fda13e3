import type { QueueClient } from "@azure/storage-queue";

/**
 * A queue of work for a queue-triggered function. Messages are JSON, base64-encoded as the
 * Functions host expects by default (`@azure/storage-queue` does not encode on its own).
 */
export class WorkQueue<T> {
  #ready: Promise<unknown> | undefined;

  constructor(private readonly client: QueueClient) {}

  get name(): string {
    return this.client.name;
  }

  async send(message: T, options: { visibilityTimeoutSeconds?: number } = {}): Promise<void> {
    this.#ready ??= this.client.createIfNotExists().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    await this.#ready;
    await this.client.sendMessage(Buffer.from(JSON.stringify(message)).toString("base64"), {
      visibilityTimeout: options.visibilityTimeoutSeconds,
    });
  }
}
