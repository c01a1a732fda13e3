import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { QueueClient } from "@azure/storage-queue";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { freePort } from "../support/ports.js";
import { startAzuriteQueue, type AzuriteService } from "../support/azurite.js";

const APP = join(PROJECT_ROOT, "test", "fixtures", "host-app");
let azurite: AzuriteService;
let host: ChildProcess;
let base: string;
let output = "";
const queueName = `work-${Date.now()}`;
let queue: QueueClient;
let poison: QueueClient;

/** What the fixture app's functions saw (test/fixtures/host-app). */
interface Observations {
  started: boolean;
  preInvocations: number;
  queue: { message: { op?: string; n?: number; ms?: number }; dequeueCount: number; id: string }[];
  inFlight: number;
  maxInFlight: number;
  events: { id: string; type: string; subject: string }[];
  ticks: number;
  lastTimer: unknown;
}

async function observations(): Promise<Observations> {
  return (await fetch(`${base}/api/observations`)).json() as Promise<Observations>;
}

async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; host output:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Event Grid extension key the host is started with. */
const EVENTGRID_KEY = "test-eventgrid-key";

const send = (payload: unknown) => queue.sendMessage(Buffer.from(JSON.stringify(payload)).toString("base64"));

beforeAll(async () => {
  azurite = await startAzuriteQueue();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  queue = new QueueClient(azurite.connectionString, queueName);
  poison = new QueueClient(azurite.connectionString, `${queueName}-poison`);
  await queue.createIfNotExists();
  host = fork(join(PROJECT_ROOT, "dist", "devhost", "functions-host", "main.js"), ["--app-dir", APP, "--port", String(port)], {
    env: {
      ...process.env,
      AzureWebJobsStorage: azurite.connectionString,
      WORK_QUEUE: queueName,
      HOST_LOG_LEVEL: "warning",
      EVENTGRID_EXTENSION_KEY: EVENTGRID_KEY,
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(64 * 1024),
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  host.stdout?.on("data", (c: Buffer) => (output += c));
  host.stderr?.on("data", (c: Buffer) => (output += c));
  await new Promise<void>((resolve, reject) => {
    host.on("message", (m: { ready?: boolean } | undefined) => m?.ready && resolve());
    host.once("exit", (code) => reject(new Error(`host exited ${code}: ${output}`)));
  });
});

afterAll(async () => {
  host?.kill("SIGTERM");
  await azurite?.stop();
});

describe("the local Functions host: loading", () => {
  it("loads every file matched by a glob main and runs appStart hooks", async () => {
    expect((await observations()).started).toBe(true);
  });
});

describe("HTTP triggers", () => {
  it("matches route templates with constraints and optional segments, passing params, query, headers and body", async () => {
    const res = await fetch(`${base}/api/items/42/widget?q=1&r=two`, { method: "POST", body: "hello", headers: { "x-test": "T" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-echo")).toBe("yes");
    expect(await res.json()).toEqual({
      functionName: "echo",
      method: "POST",
      params: { id: "42", name: "widget" },
      query: { q: "1", r: "two" },
      header: "T",
      body: "hello",
    });
    const optional = (await (await fetch(`${base}/API/Items/7`)).json()) as { params: unknown };
    expect(optional.params).toEqual({ id: "7" });
  });

  it("answers 404 when a constraint fails, the route is unknown, or a known route is called with another method", async () => {
    expect((await fetch(`${base}/api/items/abc`)).status).toBe(404);
    expect((await fetch(`${base}/api/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/api/items/1`, { method: "DELETE" })).status).toBe(404);
    expect((await fetch(`${base}/items/1`)).status).toBe(404);
  });

  it("answers 204 when the handler returns nothing and 500 when it throws", async () => {
    expect((await fetch(`${base}/api/nothing`)).status).toBe(204);
    expect((await fetch(`${base}/api/boom`)).status).toBe(500);
  });

  it("routes a function with no route by its name, GET and POST by default for app.get only GET", async () => {
    const res = await fetch(`${base}/api/defaultRoute`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("by name");
    expect((await fetch(`${base}/api/defaultRoute`, { method: "POST" })).status).toBe(404);
  });

  it("runs preInvocation hooks", async () => {
    const before = (await observations()).preInvocations;
    await fetch(`${base}/api/items/1`);
    expect((await observations()).preInvocations).toBe(before + 1);
  });
});

describe("queue triggers", () => {
  it("decodes base64 messages, passes dequeueCount, and deletes a message once handled", async () => {
    await send({ op: "ok", n: 1 });
    const seen = await eventually(async () => (await observations()).queue.find((q) => q.message.n === 1));
    expect(seen.message).toEqual({ op: "ok", n: 1 });
    expect(seen.dequeueCount).toBe(1);
    await eventually(async () => (await queue.getProperties()).approximateMessagesCount === 0);
  });

  it("retries a failing message, which then succeeds on its third dequeue", async () => {
    await send({ op: "failTwice", n: 2 });
    const attempts = await eventually(async () => {
      const a = (await observations()).queue.filter((q) => q.message.n === 2);
      return a.length >= 3 && a;
    });
    expect(attempts.map((a) => a.dequeueCount)).toEqual([1, 2, 3]);
    expect((await poison.exists()) ? (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length : 0).toBe(0);
  });

  it("moves a message that fails 5 times to <queue>-poison, unchanged", async () => {
    const sent = Buffer.from(JSON.stringify({ op: "fail", n: 3 })).toString("base64");
    await queue.sendMessage(sent);
    const poisoned = await eventually(async () => {
      if (!(await poison.exists())) return false;
      const peeked = (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
      return peeked.find((m) => m.messageText === sent);
    });
    expect(poisoned.messageText).toBe(sent);
    const attempts = (await observations()).queue.filter((q) => q.message.n === 3);
    expect(attempts.map((a) => a.dequeueCount)).toEqual([1, 2, 3, 4, 5]);
  });

  it("sends a message that is not base64 straight to the poison queue without running the function", async () => {
    const before = (await observations()).queue.length;
    await queue.sendMessage("%%% not base64 %%%");
    await eventually(
      async () =>
        (await poison.exists()) &&
        (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.some((m) => m.messageText === "%%% not base64 %%%"),
    );
    expect((await observations()).queue.length).toBe(before);
  });

  it("never runs more messages at once than batchSize (4)", async () => {
    for (let i = 0; i < 12; i++) await send({ op: "slow", ms: 400, n: 100 + i });
    await eventually(async () => (await observations()).queue.filter((q) => q.message.op === "slow").length === 12, 30_000);
    const obs = await observations();
    expect(obs.maxInFlight).toBeLessThanOrEqual(4);
    expect(obs.maxInFlight).toBeGreaterThan(1);
  });
});

describe("Event Grid triggers", () => {
  const url = (name: string, code = EVENTGRID_KEY) => `${base}/runtime/webhooks/eventgrid?functionName=${name}&code=${code}`;
  const event = (extra: Record<string, unknown> = {}) => ({
    id: `e-${Math.random()}`,
    eventType: "Microsoft.Storage.BlobCreated",
    subject: "/blobServices/default/containers/models/blobs/a.pkl",
    eventTime: new Date().toISOString(),
    dataVersion: "",
    metadataVersion: "1",
    topic: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z",
    data: { api: "PutBlob", url: "http://127.0.0.1/a.pkl", ...extra },
  });

  it("refuses a delivery without the Event Grid extension's key (401), as Azure does", async () => {
    for (const target of [`${base}/runtime/webhooks/eventgrid?functionName=onEvent`, url("onEvent", "wrong-key")]) {
      const res = await fetch(target, { method: "POST", headers: { "aeg-event-type": "Notification" }, body: JSON.stringify([event()]) });
      expect(res.status, target).toBe(401);
    }
    expect((await observations()).events).toEqual([]);
  });

  it("answers the subscription validation handshake", async () => {
    const res = await fetch(url("onEvent"), {
      method: "POST",
      headers: { "aeg-event-type": "SubscriptionValidation", "content-type": "application/json" },
      body: JSON.stringify([
        { ...event(), eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: "CODE-123" } },
      ]),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: "CODE-123" });
  });

  it("delivers each event of a notification to the function (202), 500 when one fails", async () => {
    const a = event();
    const b = event();
    const ok = await fetch(url("onEvent"), { method: "POST", headers: { "aeg-event-type": "Notification" }, body: JSON.stringify([a, b]) });
    expect(ok.status).toBe(202);
    const ids = (await observations()).events.map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    const failing = await fetch(url("onEvent"), {
      method: "POST",
      headers: { "aeg-event-type": "Notification" },
      body: JSON.stringify(event({ fail: true })),
    });
    expect(failing.status).toBe(500);
  });

  it("answers 404 for an unknown function, 400 without aeg-event-type, 202 to Unsubscribe", async () => {
    expect((await fetch(url("nope"), { method: "POST", headers: { "aeg-event-type": "Notification" }, body: "[]" })).status).toBe(404);
    expect((await fetch(url("onEvent"), { method: "POST", body: "[]" })).status).toBe(400);
    expect((await fetch(url("onEvent"), { method: "POST", headers: { "aeg-event-type": "Unsubscribe" }, body: "[]" })).status).toBe(202);
  });
});

describe("timer triggers", () => {
  it("runs on its NCRONTAB schedule with the timer object", async () => {
    const first = (await observations()).ticks;
    const obs = await eventually(async () => {
      const o = await observations();
      return o.ticks >= first + 2 && o;
    }, 10_000);
    expect(obs.lastTimer).toMatchObject({ isPastDue: false, schedule: { adjustForDST: true } });
  });
});
