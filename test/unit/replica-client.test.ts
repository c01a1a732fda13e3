import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { ReplicaClient, ReplicaTimeout, headOf } from "../../devhost/runtime/replica-client.js";

/** A TCP server that answers each request with whatever `answer` writes: a stand-in replica at the byte level. */
async function replica(
  answer: (socket: Socket, request: string) => void,
): Promise<{ port: number; server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let buffered = "";
    socket.on("data", (c) => {
      buffered += c.toString("latin1");
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const request = buffered.slice(0, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      answer(socket, request);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, server, connections: () => connections };
}

const OPTIONS = { timeoutMs: 5_000 };
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe("the gateway's replica client", () => {
  it("sends the request in one piece, reads Content-Length framed answers split anywhere, and reuses the connection", async () => {
    const seen: string[] = [];
    const r = await replica((socket, request) => {
      seen.push(request);
      const body = JSON.stringify({ echo: request.slice(request.indexOf("\r\n\r\n") + 4) });
      const whole = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      // Split inside the head and inside the body.
      socket.write(whole.slice(0, 10));
      setTimeout(() => socket.write(whole.slice(10, whole.length - 3)), 5);
      setTimeout(() => socket.write(whole.slice(whole.length - 3)), 10);
    });
    servers.push(r.server);
    const client = new ReplicaClient();
    for (const n of [1, 2, 3]) {
      const answer = await client.send(r.port, "POST", "/score", "application/json", Buffer.from(`{"n":${n}}`), OPTIONS);
      expect(answer).toMatchObject({ status: 200, contentType: "application/json" });
      expect(JSON.parse(Buffer.concat(answer.body).toString())).toEqual({ echo: `{"n":${n}}` });
    }
    expect(seen[0]).toMatch(/^POST \/score HTTP\/1\.1\r\n/);
    expect(seen[0]).toContain("Content-Length: 7\r\n");
    expect(r.connections()).toBe(1);
  });

  it("refuses answers it cannot frame, and fails when the replica hangs up mid-answer", async () => {
    const chunked = await replica((socket) => socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    const hangup = await replica((socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
    servers.push(chunked.server, hangup.server);
    const client = new ReplicaClient();
    await expect(client.send(chunked.port, "POST", "/score", "application/json", Buffer.from("{}"), OPTIONS)).rejects.toThrow(
      "not framed by Content-Length",
    );
    await expect(client.send(hangup.port, "POST", "/score", "application/json", Buffer.from("{}"), OPTIONS)).rejects.toThrow(
      "closed the connection before answering",
    );
  });

  it("drops a connection the replica closed while idle, and opens a new one", async () => {
    const r = await replica((socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
    servers.push(r.server);
    const client = new ReplicaClient();
    for (let i = 0; i < 3; i++)
      expect(Buffer.concat((await client.send(r.port, "POST", "/score", "text/plain", Buffer.from("x"), OPTIONS)).body).toString()).toBe(
        "ok",
      );
    expect(r.connections()).toBe(3);
  });

  it("passes a large answer on whole, sent in many small pieces", async () => {
    const size = 64 * 1024 * 1024;
    const r = await replica((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
      const piece = Buffer.alloc(16 * 1024, 7);
      let sent = 0;
      const more = (): void => {
        while (sent < size) {
          sent += piece.length;
          if (!socket.write(piece)) return void socket.once("drain", more);
        }
      };
      more();
    });
    servers.push(r.server);
    const answer = await new ReplicaClient().send(r.port, "POST", "/score", "application/json", Buffer.from("{}"), OPTIONS);
    // In the pieces it came in, never joined into one copy.
    expect(answer.length).toBe(size);
    expect(answer.body.reduce((n, piece) => n + piece.length, 0)).toBe(size);
    expect(answer.body.length).toBeGreaterThan(1);
    expect(answer.body.every((piece) => piece.every((byte) => byte === 7))).toBe(true);
  });

  it("gives up on a replica that does not answer within the deadline, and does not reuse its connection", async () => {
    let requests = 0;
    const r = await replica(() => requests++);
    servers.push(r.server);
    const client = new ReplicaClient();
    await expect(client.send(r.port, "POST", "/score", "application/json", Buffer.from("{}"), { timeoutMs: 200 })).rejects.toBeInstanceOf(
      ReplicaTimeout,
    );
    await expect(client.send(r.port, "POST", "/score", "application/json", Buffer.from("{}"), { timeoutMs: 200 })).rejects.toThrow("0.2 s");
    expect(requests).toBe(2);
    expect(r.connections()).toBe(2);
  });

  it("refuses an answer larger than the gateway passes on without reading it", async () => {
    const r = await replica((socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\nxx`));
    servers.push(r.server);
    await expect(new ReplicaClient().send(r.port, "POST", "/score", "application/json", Buffer.from("{}"), OPTIONS)).rejects.toThrow(
      "over the 104857600 the gateway passes on",
    );
  });
});

describe("the head of an answer's pieces", () => {
  it("takes the first bytes across pieces, and no more", () => {
    const pieces = [Buffer.from("abc"), Buffer.from("defg"), Buffer.from("hij")];
    expect(headOf(pieces, 2).toString()).toBe("ab");
    expect(headOf(pieces, 5).toString()).toBe("abcde");
    expect(headOf(pieces, 100).toString()).toBe("abcdefghij");
  });
});
