import { createServer, type Server, type Socket } from "node:net";
import type { Server as HttpServer } from "node:http";
import type { ServiceController } from "./service-controller.js";
import type { Replica } from "./replica.js";
import type { ReturnReason } from "./replica-channel.js";
import { keyMatches } from "./gateway.js";

/** The most of a request's head read to route its connection; past it, the gateway answers (431). */
const MAX_HEAD_BYTES = 16 * 1024;
/** A connection that sends no complete head for this long is the gateway's to time out, or closed when it sent nothing. */
const HEAD_WAIT_MS = 30_000;

const SCORE_LINE = /^POST \/api\/v1\/service\/([^/?\s]+)\/score(?:\?\S*)? HTTP\/1\.1$/;
const BEARER = /\r\nauthorization:[ \t]*bearer[ \t]+(\S+)[ \t]*(?=\r\n|$)/i;

/**
 * The scoring port's first reader. A connection whose first request scores a service with a valid
 * key goes to one of the service's replicas, whole: the replica serves it from there on with no
 * process in between (scoring/aml_server/handoff.py), which is what lets the gateway keep up with
 * a quick driver on a small machine, where relaying every request cost as much CPU as scoring it.
 * Everything else goes to the gateway (gateway.ts): other paths, Swagger, a missing or wrong key,
 * services that collect model data (the gateway records their requests), a service without a
 * replica ready to take connections, and connections a replica gives back for a request it does
 * not serve. A replica gives a connection back between requests, when its short lease ends (it is
 * then handed on again, so that long-lived connections spread over new replicas) and when it
 * stops.
 */
export class ConnectionRouter {
  readonly server: Server;

  constructor(
    private readonly services: Map<string, ServiceController>,
    private readonly gateway: HttpServer,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => this.route(socket, Buffer.alloc(0)));
  }

  /** A connection given back by a replica, with what it had read of the next request. */
  returned(socket: Socket, buffered: Buffer, reason: ReturnReason): void {
    if (reason === "elsewhere") this.#toGateway(socket, buffered);
    else this.route(socket, buffered);
  }

  /** Reads the connection's first request head (no further), then hands the connection on. */
  route(socket: Socket, carried: Buffer): void {
    let buffered = carried;
    const decided = (): boolean => {
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0 && buffered.length <= MAX_HEAD_BYTES) return false;
      stopWatching();
      const replica = end < 0 ? undefined : this.#replicaFor(buffered.subarray(0, end).toString("latin1"));
      if (!replica?.adopt(socket, buffered)) this.#toGateway(socket, buffered);
      return true;
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      decided();
    };
    const onClose = (): void => stopWatching();
    const timer = setTimeout(() => {
      stopWatching();
      if (buffered.length) this.#toGateway(socket, buffered);
      else socket.destroy();
    }, HEAD_WAIT_MS);
    const stopWatching = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onClose);
    };
    if (decided()) return;
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", onClose);
  }

  /** The replica that takes a connection whose first request has this head, if any does. */
  #replicaFor(head: string): Replica | undefined {
    const lineEnd = head.indexOf("\r\n");
    const line = SCORE_LINE.exec(lineEnd < 0 ? head : head.slice(0, lineEnd));
    if (!line) return undefined;
    let name: string;
    try {
      name = decodeURIComponent(line[1]!);
    } catch {
      return undefined;
    }
    const service = this.services.get(name);
    if (!service || service.spec.dataCollection) return undefined;
    const key = BEARER.exec(head)?.[1];
    if (!key || !keyMatches(key, service.spec.keyHashes)) return undefined;
    return service.pickForConnection();
  }

  /** The gateway's HTTP server takes the connection, reading `buffered` first. */
  #toGateway(socket: Socket, buffered: Buffer): void {
    socket.pause();
    if (buffered.length) socket.unshift(buffered);
    this.gateway.emit("connection", socket);
    socket.resume();
  }
}
