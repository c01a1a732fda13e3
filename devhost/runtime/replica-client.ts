import { connect, type Socket } from "node:net";

interface ReplicaAnswer {
  status: number;
  contentType: string;
  /**
   * The body as it arrived, in pieces (one for a small answer): passed on piece by piece, never
   * joined, so a large answer costs no copy of itself on the gateway's one thread.
   */
  body: Buffer[];
  length: number;
}

/** The first `limit` bytes of an answer's pieces, as one buffer. */
export function headOf(pieces: Buffer[], limit: number): Buffer {
  const wanted: Buffer[] = [];
  let size = 0;
  for (const piece of pieces) {
    if (size >= limit) break;
    const part = piece.subarray(0, limit - size);
    wanted.push(part);
    size += part.length;
  }
  return wanted.length === 1 ? wanted[0]! : Buffer.concat(wanted, size);
}

/** The largest answer head we accept from a replica; the scoring server's is about 150 bytes. */
const MAX_HEAD = 16 * 1024;
/** The largest answer passed on: as large as the largest request the scoring server takes. */
const MAX_ANSWER_BYTES = 100 * 1024 * 1024;

/** A replica that did not answer within the request's deadline. */
export class ReplicaTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the replica did not answer within ${timeoutMs / 1000} s`);
    this.name = "ReplicaTimeout";
  }
}

/**
 * Keep-alive HTTP/1.1 to the replicas, for small requests: the request goes out in one write and
 * the answer is read with a parser for the one peer it talks to, our scoring server (scoring/
 * server.py), which always frames its answers with Content-Length and never chunks.
 *
 * Written by hand on purpose: the gateway's whole job is to forward, and on a 2-core machine
 * Node's general HTTP client (request objects, agent bookkeeping, header validation, a second
 * parser) cost more CPU per request than the Python replica spends scoring, which halved the
 * throughput of the service. Anything outside that narrow case (large or streamed bodies, other
 * framings) goes through node:http instead.
 */
export class ReplicaClient {
  readonly #idle = new Map<number, Socket[]>();

  /** `requestId` (letters, digits and '-' only) goes as `x-ms-request-id`: what the driver's collected rows are filed under. */
  send(
    port: number,
    method: string,
    path: string,
    contentType: string,
    body: Buffer,
    options: { requestId?: string; timeoutMs: number },
  ): Promise<ReplicaAnswer> {
    const { requestId, timeoutMs } = options;
    // Node's parser already refuses line breaks in incoming headers; refuse them here too.
    const type = contentType.replace(/[\r\n]/g, "");
    const id = requestId && /^[A-Za-z0-9-]{1,64}$/.test(requestId) ? `x-ms-request-id: ${requestId}\r\n` : "";
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n${id}\r\n`;
    const message = Buffer.concat([Buffer.from(head, "latin1"), body]);
    const idle = this.#idle.get(port);
    let socket = idle?.pop();
    while (socket && (socket.destroyed || socket.readyState !== "open")) socket = idle?.pop();
    if (socket) return this.#exchange(port, socket, message, timeoutMs);
    const fresh = connect({ host: "127.0.0.1", port, noDelay: true });
    this.#adopt(port, fresh);
    return new Promise((resolve, reject) => {
      const refused = (err: Error): void => reject(err);
      fresh.once("error", refused);
      fresh.once("connect", () => {
        fresh.off("error", refused);
        this.#exchange(port, fresh, message, timeoutMs).then(resolve, reject);
      });
    });
  }

  #exchange(port: number, socket: Socket, message: Buffer, timeoutMs: number): Promise<ReplicaAnswer> {
    return new Promise((resolve, reject) => {
      // The answer's bytes are kept as they come, never joined: joining on every chunk made a
      // large answer cost the square of its size, and stalled the gateway for every service.
      let parts: Buffer[] = [];
      let held = 0;
      let status = 0;
      let contentType = "application/json";
      let bodyStart = -1;
      let length = -1;
      let keepAlive = true;
      const timer = setTimeout(() => fail(new ReplicaTimeout(timeoutMs)), timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("error", onError);
        socket.off("close", onClose);
      };
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onError = (err: Error): void => fail(err);
      const onClose = (): void => fail(new Error("the replica closed the connection before answering"));
      const onData = (chunk: Buffer): void => {
        parts.push(chunk);
        held += chunk.length;
        if (bodyStart < 0) {
          // Until the head is complete (a few hundred bytes) the parts are joined to search it.
          const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
          parts = [head];
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) {
            if (held > MAX_HEAD) fail(new Error("the replica's answer head is too large"));
            return;
          }
          const lines = head.subarray(0, end).toString("latin1").split("\r\n");
          status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            if (name === "content-length") length = Number(value);
            else if (name === "content-type") contentType = value;
            else if (name === "connection" && value.toLowerCase() === "close") keepAlive = false;
            else if (name === "transfer-encoding") length = Number.NaN;
          }
          if (!status || !Number.isInteger(length) || length < 0)
            return fail(new Error("the replica's answer is not framed by Content-Length"));
          if (length > MAX_ANSWER_BYTES)
            return fail(new Error(`the replica's answer is ${length} bytes, over the ${MAX_ANSWER_BYTES} the gateway passes on`));
          bodyStart = end + 4;
        }
        if (held - bodyStart < length) return;
        cleanup();
        const body = [parts[0]!.subarray(bodyStart), ...parts.slice(1)];
        // Anything past the announced length is not the answer's (and the connection is not reused).
        const extra = held - bodyStart - length;
        for (let excess = extra; excess > 0;) {
          const last = body.pop()!;
          if (last.length > excess) body.push(last.subarray(0, last.length - excess));
          excess -= Math.min(excess, last.length);
        }
        if (keepAlive && extra === 0) this.#release(port, socket);
        else socket.destroy();
        resolve({ status, contentType, body: body.filter((b) => b.length > 0), length });
      };
      socket.on("data", onData);
      socket.on("error", onError);
      socket.on("close", onClose);
      socket.write(message);
    });
  }

  #release(port: number, socket: Socket): void {
    const idle = this.#idle.get(port) ?? [];
    idle.push(socket);
    this.#idle.set(port, idle);
  }

  /** Once per connection: an idle one the replica closes (it restarted) leaves the pool by itself. */
  #adopt(port: number, socket: Socket): void {
    socket.on("error", () => {});
    socket.on("close", () => {
      const list = this.#idle.get(port);
      const at = list?.indexOf(socket) ?? -1;
      if (list && at >= 0) list.splice(at, 1);
    });
  }
}
