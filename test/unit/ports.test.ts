import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { freePorts, isPortFree } from "../../devhost/ports.js";

const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);

describe("free ports", () => {
  it("picks distinct free ports below the range that outgoing connections take their source ports from", async () => {
    // Outgoing connections, as a busy machine has, each holding a source port of the ephemeral range.
    const listener: Server = createServer((socket) => socket.resume());
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const target = (listener.address() as { port: number }).port;
    const clients = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<ReturnType<typeof connect>>((r) => {
            const socket = connect(target, "127.0.0.1", () => r(socket));
          }),
      ),
    );
    const sourcePorts = new Set(clients.map((c) => c.localPort));
    try {
      const ports = await freePorts(6);
      expect(new Set(ports).size).toBe(6);
      for (const port of ports) {
        expect(port).toBeLessThan(ephemeralLow!);
        expect(sourcePorts.has(port)).toBe(false);
        expect(await isPortFree(port)).toBe(true);
      }
    } finally {
      for (const c of clients) c.destroy();
      listener.close();
    }
  });
});
