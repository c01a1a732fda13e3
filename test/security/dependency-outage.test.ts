import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiClient,
  DEFAULT_ACCOUNT,
  manifestBody,
  modelBody,
  tokensFor,
  waitForOperation,
  type ApiResponse,
} from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";

/**
 * One dependency killed with -9 under load (the Cosmos emulator, or Azurite): the stack restarts
 * it, callers meanwhile get 503 Unavailable with Retry-After (never a 500 or a refused
 * connection), and every acknowledged write is there afterwards.
 */
let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startLocalStack({ env: { OPERATION_STALL_SECONDS: "5" } });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
});

afterAll(async () => {
  await stack?.stop();
});

/** The stack's children whose command line contains `marker`. */
function childrenRunning(marker: string): number[] {
  const { pids } = JSON.parse(readFileSync(join(stack.dataDir, "stack.json"), "utf8")) as { pids: number[] };
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
    } catch {
      return false;
    }
  });
}

/**
 * Runs `write` from 6 callers until `until` resolves, then for 1.5 s more; every answer's status
 * (0 for a refused or cut connection), and what was acknowledged.
 */
async function underLoad<T>(
  write: (n: number) => Promise<ApiResponse>,
  acknowledged: (res: ApiResponse) => T | undefined,
  during: () => Promise<void>,
) {
  const statuses: number[] = [];
  const kept: T[] = [];
  const unavailable: ApiResponse[] = [];
  let stop = false;
  let n = 0;
  const caller = async () => {
    while (!stop) {
      let res: ApiResponse | undefined;
      try {
        res = await write(n++);
      } catch {
        statuses.push(0);
        continue;
      }
      statuses.push(res.status);
      const ack = acknowledged(res);
      if (ack !== undefined) kept.push(ack);
      if (res.status === 503) unavailable.push(res);
    }
  };
  const callers = Array.from({ length: 6 }, caller);
  await new Promise((r) => setTimeout(r, 500));
  await during();
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all(callers);
  return { statuses, kept, unavailable };
}

/** What the stack logged of errors it did not expect. */
function unhandled(): string {
  return stack
    .output()
    .split("\n")
    .filter((line) => /Unhandled|Error/.test(line))
    .slice(-20)
    .join("\n");
}

/** Kills the processes with -9 and waits until the stack has started them again and the API answers. */
async function killAndAwaitRestart(marker: string): Promise<void> {
  const victims = childrenRunning(marker);
  expect(victims.length).toBeGreaterThan(0);
  // Killed again as soon as the stack restarts it, for 1.5 s: an outage of a few seconds (the
  // back-off grows), long enough that callers meet it however slow the machine is.
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    for (const pid of childrenRunning(marker)) process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 50));
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await api.get(`${DEFAULT_ACCOUNT}/models`).catch(() => undefined);
    if (res?.status === 200 && childrenRunning(marker).length === victims.length) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the stack did not bring ${marker} back within 30 s:\n${stack.output().slice(-2000)}`);
}

describe("a dependency killed under load", () => {
  it("the Cosmos emulator: 503 Unavailable with Retry-After meanwhile, restarted, no acknowledged model lost", async () => {
    const { statuses, kept, unavailable } = await underLoad(
      (n) => api.post(`${DEFAULT_ACCOUNT}/models`, modelBody(`outage-${n % 4}`)),
      (res) => (res.status === 200 ? (res.body as { id: string }) : undefined),
      () => killAndAwaitRestart("cosmos/main.js"),
    );
    expect(
      statuses.filter((s) => s !== 200 && s !== 503),
      unhandled(),
    ).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const res of unavailable) {
      expect(res.body.code).toBe("Unavailable");
      expect(res.headers.get("retry-after")).toBe("5");
    }
    expect(kept.length).toBeGreaterThan(10);
    for (const model of kept) expect((await api.get(`${DEFAULT_ACCOUNT}/models/${model.id}`)).status, model.id).toBe(200);
  }, 90_000);

  it("Azurite: image requests answered 202 or 503 meanwhile, restarted, every acknowledged build runs to its end", async () => {
    const model = await api.post(`${DEFAULT_ACCOUNT}/models`, modelBody("outage-image-model"));
    // Its asset's origin is not allowed: each build fails fast, which is an end as good as any.
    const manifest = await api.post(`${DEFAULT_ACCOUNT}/manifests`, manifestBody("outage", [model.body.id]));
    expect(manifest.status, manifest.text).toBe(200);
    const { statuses, kept } = await underLoad(
      (n) =>
        api.post(`${DEFAULT_ACCOUNT}/images`, {
          name: `outage-${n}`,
          imageType: "Docker",
          computeResourceId: "local",
          manifestId: manifest.body.id,
        }),
      (res) => (res.status === 202 ? res.headers.get("operation-location")! : undefined),
      () => killAndAwaitRestart("azurite"),
    );
    expect(
      statuses.filter((s) => s !== 202 && s !== 503),
      unhandled(),
    ).toEqual([]);
    expect(kept.length).toBeGreaterThan(10);
    for (const location of kept) expect(["Succeeded", "Failed"]).toContain((await waitForOperation(api, location, 60_000)).state);
  }, 180_000);
});
