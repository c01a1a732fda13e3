import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, tokensFor, waitForOperation } from "../support/api-client.js";
import { freeStackPorts, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs } from "../support/blobs.js";
import { LINEAR_DRIVER } from "../fixtures/drivers.js";

/**
 * A model URL that misbehaves (stalls, cuts off, resets, or never ends) fails its own build,
 * once, naming the URL without its query; the stack stays up, and nothing is left behind.
 */
const A = DEFAULT_ACCOUNT;
const MAX_BYTES = 8 * 1024 * 1024;
let origin: Server;
let originUrl: string;
const hits = new Map<string, number>();
let stack: LocalStack;
let api: ApiClient;
let blobs: TestBlobs;

/** An origin whose paths each fail a download in their own way. */
function misbehavingOrigin(): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    // The builder asks for an ETag first (the layer cache): no ETag here, so never cached.
    if (req.method === "HEAD") return void res.writeHead(200).end();
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const part = Buffer.alloc(100 * 1024, 1);
    if (path.startsWith("/stall/")) {
      res.writeHead(200, { "content-length": 1024 * 1024 });
      res.write(part); // … and nothing more, with the connection open
    } else if (path.startsWith("/truncate/")) {
      res.writeHead(200, { "content-length": 1024 * 1024 });
      res.write(part, () => res.socket?.destroy());
    } else if (path.startsWith("/reset/")) {
      req.socket.resetAndDestroy();
    } else if (path.startsWith("/endless/")) {
      res.writeHead(200, { "content-type": "application/octet-stream" }); // chunked, without end
      const more = (): void => {
        while (res.write(part));
        res.once("drain", more);
      };
      more();
      res.once("close", () => res.removeAllListeners("drain"));
    } else if (path.startsWith("/huge/")) {
      res.writeHead(200, { "content-length": 64 * 1024 ** 3 });
      res.write(part);
    } else {
      res.writeHead(404).end();
    }
  });
}

beforeAll(async () => {
  origin = misbehavingOrigin();
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const address = origin.address();
  originUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  stack = await startLocalStack({
    ports: await freeStackPorts(),
    env: {
      FETCH_ALLOWED_ORIGINS: originUrl,
      FETCH_IDLE_TIMEOUT_SECONDS: "2",
      FETCH_MAX_BYTES: String(MAX_BYTES),
      OPERATION_STALL_SECONDS: "5",
    },
  });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  blobs = new TestBlobs(stack.ports.blobPort);
});

afterAll(async () => {
  await stack?.stop();
  origin?.closeAllConnections();
  origin?.close();
});

/** Registers a model at `url`, a manifest, and asks for an image; the build's final operation. */
async function buildFrom(name: string, url: string) {
  const model = await api.post(`${A}/models`, { name, mimeType: "application/octet-stream", url });
  expect(model.status, model.text).toBe(200);
  const manifest = await api.post(`${A}/manifests`, {
    name,
    driverProgram: "score.py",
    assets: [{ id: "score.py", url: await blobs.put(`${name}/score.py`, LINEAR_DRIVER) }],
    modelIds: [model.body.id],
    targetRuntime: { runtimeType: "Python", properties: {} },
  });
  expect(manifest.status, manifest.text).toBe(200);
  const image = await api.post(`${A}/images`, { name, imageType: "Docker", computeResourceId: "local", manifestId: manifest.body.id });
  expect(image.status, image.text).toBe(202);
  return waitForOperation(api, image.headers.get("operation-location")!, 60_000);
}

function leftovers(): string[] {
  const images = join(stack.dataDir, "images");
  const tmp = readdirSync(join(images, "oci", "blobs", "sha256")).filter((n) => n.startsWith(".tmp-"));
  const work = readdirSync(images).includes("work") ? readdirSync(join(images, "work")) : [];
  return [...tmp, ...work.map((w) => `work/${w}`)];
}

// The faults run side by side (each waits a few seconds to see that its build is not retried).
describe.concurrent("a model URL that fails mid-download", () => {
  const cases = [
    { path: "/stall/model.bin", code: "ContentUnavailable", says: "no data for 2 s after 102400 bytes" },
    { path: "/truncate/model.bin", code: "ContentUnavailable", says: "Could not fetch" },
    { path: "/reset/model.bin", code: "ContentUnavailable", says: "Could not fetch" },
    { path: "/endless/model.bin", code: "ContentTooLarge", says: `grew past the ${MAX_BYTES} bytes` },
    { path: "/huge/model.bin", code: "ContentTooLarge", says: `is ${64 * 1024 ** 3} bytes, over the ${MAX_BYTES}` },
  ];
  for (const { path, code, says } of cases) {
    it(`${path.split("/")[1]}: fails its build once, naming the URL without its query, and the stack serves on`, async () => {
      const op = await buildFrom(`fault-${path.split("/")[1]}`, `${originUrl}${path}?sv=2024&sig=SECRET-SIGNATURE`);
      expect(op.state).toBe("Failed");
      const error = JSON.stringify(op.error);
      expect(op.error.code).toBe(code);
      expect(error).toContain(says);
      expect(error).toContain(`${originUrl}${path}?…`);
      expect(error).not.toContain("SECRET-SIGNATURE");
      // Not retried: the sweeper (5 s here) leaves a Failed build alone.
      await new Promise((r) => setTimeout(r, 6_000));
      expect(hits.get(path)).toBe(1);
      expect((await api.get(`${A}/models`)).status).toBe(200);
    });
  }
});

describe("what failed and crashed builds leave", () => {
  it("leaves no temporary files after the failed builds", () => {
    expect(leftovers()).toEqual([]);
  });

  it("leaves nothing of a crashed build after a restart: half-written layers and work folders are removed", async () => {
    const images = join(stack.dataDir, "images");
    await stack.kill9();
    writeFileSync(join(images, "oci", "blobs", "sha256", ".tmp-crashed-layer"), Buffer.alloc(1024));
    mkdirSync(join(images, "work", "crashed-build", "app"), { recursive: true });
    stack = await startLocalStack({ dataDir: stack.dataDir, ports: stack.ports, env: { FETCH_ALLOWED_ORIGINS: originUrl } });
    api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
    const op = await buildFrom("after-crash", await blobs.put("after-crash/model.json", '{"weights": [1, 2, 3]}'));
    expect(op.state, JSON.stringify(op.error)).toBe("Succeeded");
    expect(leftovers()).toEqual([]);
  });
});
