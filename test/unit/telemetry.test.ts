import { afterAll, describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { startTelemetry } from "../../shared/telemetry.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { requireTool } from "../support/tools.js";

let server: Server | undefined;
afterAll(() => server?.close());

describe("telemetry to Azure Monitor", () => {
  it("starts nothing without a connection string", async () => {
    expect(await startTelemetry({})).toBe(false);
  });

  it("exports the app's spans to the ingestion endpoint of the connection string, and no usage reports elsewhere", async () => {
    // The exporter only speaks https: a stand-in ingestion endpoint (/v2.1/track) with a
    // self-signed certificate, on loopback, which the child process is told to accept.
    requireTool("openssl", "openssl");
    const dir = mkdtempSync(join(tmpdir(), "mm-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const received: { path: string; body: string }[] = [];
    server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        received.push({
          path: `${req.method} ${req.url}`,
          body: (req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("utf8"),
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "test/fixtures/telemetry/emit-span.mjs"), join(PROJECT_ROOT, "dist/shared/telemetry.js")],
      {
        // NODE_DEBUG=net makes Node name every connection it opens.
        env: {
          ...process.env,
          APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://127.0.0.1:${port}/`,
          NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
          NODE_DEBUG: "net",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let debug = "";
    child.stderr!.on("data", (c: Buffer) => (debug += c.toString("utf8")));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(0);
    const targets = [...debug.matchAll(/attempting to connect to (\S+)/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(0);
    expect(
      targets.every((t) => t === `127.0.0.1:${port}`),
      `connections: ${[...new Set(targets)].join(", ")}`,
    ).toBe(true);
    const tracked = received.filter((r) => r.path === "POST /v2.1/track");
    expect(tracked.length).toBeGreaterThan(0);
    expect(tracked.map((t) => t.body).join("\n")).toContain("register model");
    expect(tracked.map((t) => t.body).join("\n")).toContain("11111111-2222-3333-4444-555555555555");
  });
});
