import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";

/** How long the runtime waits for a replica to take new keys. */
const ANSWER_MS = 2_000;

/** Why a replica gave a handed connection back (see scoring/aml_server/handoff.py). */
export type ReturnReason = "drain" | "lease" | "elsewhere";

/** The replica's end of connection handoff: which service's connections it takes, and where they go back. */
export interface HandoffOptions {
  service: string;
  /** The service's key hashes now: a replica takes connections only once it holds these. */
  keyHashes: () => string[];
  /** A connection the replica gave back, with the bytes it had read and not served. */
  returned: (socket: Socket, buffered: Buffer, reason: ReturnReason) => void;
}

/** What a replica says on its channel. */
type ReplicaMessage =
  { t: "ack"; seq: number } | { t: "load"; inFlight: number } | { t: "returned"; reason: ReturnReason; buffered: string };

/**
 * The IPC channel to one scoring server process (Node's 'ipc' stdio, which the server speaks in
 * scoring/aml_server/handoff.py): client connections handed to it, the service's keys, a drain
 * before it stops; from it, connections given back and how busy handed connections keep it.
 * One per process: a restarted replica gets a new one, holding nothing.
 */
export class ReplicaChannel {
  /** Requests in progress on handed connections (the process's own average over the last tenth of a second). */
  handedInFlight = 0;
  /** The key hashes the process holds, once it said so. */
  #keysHeld: string | undefined;
  #pushingKeys = false;
  #seq = 0;
  readonly #answers = new Map<number, () => void>();

  constructor(
    private readonly child: ChildProcess,
    private readonly handoff: HandoffOptions,
  ) {
    child.on("message", (message: ReplicaMessage, socket?: Socket) => this.#heard(message, socket));
    // A send to a process that just exited fails with EPIPE: the process's end is handled by its
    // exit, and this must not take the runtime down.
    child.on("error", () => {});
    void this.pushKeys();
  }

  get open(): boolean {
    return this.child.connected;
  }

  /** Whether the process holds the service's keys now; if not, they are sent again (once at a time). */
  holdsCurrentKeys(): boolean {
    if (this.#keysHeld === this.handoff.keyHashes().join()) return true;
    if (!this.#pushingKeys) {
      this.#pushingKeys = true;
      void this.pushKeys().finally(() => (this.#pushingKeys = false));
    }
    return false;
  }

  /** Gives the process the service's keys now; resolves once it holds them (or could not). */
  async pushKeys(): Promise<void> {
    const hashes = this.handoff.keyHashes();
    if (await this.#ask({ t: "keys", hashes })) this.#keysHeld = hashes.join();
  }

  /** Asks the process to give every handed connection back (each between requests); true once it has. */
  drain(waitMs: number): Promise<boolean> {
    return this.#ask({ t: "drain" }, waitMs);
  }

  /**
   * Hands the process a client's connection, with the bytes already read of it; false when it
   * cannot be handed (the connection is then still the caller's).
   */
  adopt(socket: Socket, buffered: Buffer): boolean {
    // No byte may be read here once the process owns the connection: what this process read and
    // dropped would be lost to the client's request. Node stops reading a socket it hands over
    // only when it comes from a paused listener, so reading is stopped on the handle itself.
    const handle = (socket as unknown as { _handle?: { readStop?: () => number } })._handle;
    if (!this.open || typeof handle?.readStop !== "function") return false;
    socket.pause();
    handle.readStop();
    try {
      this.child.send({ t: "connection", buffered: buffered.toString("base64") }, socket, (err) => {
        if (err) socket.destroy();
      });
    } catch {
      socket.destroy();
    }
    return true;
  }

  #heard(message: ReplicaMessage, socket: Socket | undefined): void {
    if (message.t === "ack") this.#answers.get(message.seq)?.();
    else if (message.t === "load") this.handedInFlight = Number(message.inFlight) || 0;
    else if (message.t === "returned" && socket) this.handoff.returned(socket, Buffer.from(message.buffered, "base64"), message.reason);
  }

  /** Sends `message` and waits (bounded) for the process's answer; false when none came. */
  #ask(message: Record<string, unknown>, waitMs = ANSWER_MS): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), waitMs);
      const settle = (answered: boolean) => {
        clearTimeout(timer);
        this.#answers.delete(seq);
        resolve(answered);
      };
      this.#answers.set(seq, () => settle(true));
      this.child.send({ ...message, seq }, (err) => {
        if (err) settle(false);
      });
    });
  }
}
