import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";

/** Whether a TCP port on a host can be listened on right now. */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Nothing answered on ${host}:${port} within ${timeoutMs} ms.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The ports the kernel hands out as the source port of outgoing connections. A port picked from
 * this range (as `listen(0)` picks) and closed again can be taken by any connect() before whoever
 * asked for it listens on it: on a busy machine a stack's own Cosmos or Azurite port then "is
 * already in use". Outside Linux the range is unknown, and the usual default stands in.
 */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && high) return { low, high };
  } catch {
    // not Linux
  }
  return { low: 32768, high: 60999 };
}

/**
 * The ports to choose from: below the ephemeral range, above the ones services usually claim.
 * Empty when the range leaves no room (then the OS picks, as before).
 */
function portsOutsideEphemeralRange(): { from: number; to: number } | undefined {
  const { low } = ephemeralRange();
  const from = 20_000;
  const to = low - 1;
  return to - from >= 1000 ? { from, to } : undefined;
}

/** Listens on a random port outside the ephemeral range that is free now, or one the OS picks. */
async function listenOnSparePort(host: string): Promise<Server> {
  const range = portsOutsideEphemeralRange();
  // Random candidates: processes that look for ports at the same time rarely try the same one.
  for (let attempt = 0; range && attempt < 50; attempt += 1) {
    const port = range.from + randomInt(range.to - range.from + 1);
    const server = await listenOn(port, host);
    if (server) return server;
  }
  const server = await listenOn(0, host);
  if (!server) throw new Error(`No port is free on ${host}.`);
  return server;
}

function listenOn(port: number, host: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, host, () => resolve(server));
  });
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
}

/** A TCP port free on loopback right now, outside the range outgoing connections use. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

/**
 * `count` distinct free ports: all held open at once while they are picked (ports picked one
 * after another can come back twice, a closed port being free again at once).
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) servers.push(await listenOnSparePort(host));
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await closeAll(servers);
  }
}
