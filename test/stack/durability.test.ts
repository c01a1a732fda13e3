import { afterAll, describe, expect, it } from "vitest";
import { ApiClient, DEFAULT_ACCOUNT, modelBody, readAllPages, tokensFor } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";

let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.stop();
});

describe("durability", () => {
  it("keeps every model answered 200 when the whole stack is killed with -9 in the middle of registrations", async () => {
    stack = await startLocalStack();
    const api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
    const acknowledged: { id: string; name: string; version: number }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await api.post(`${DEFAULT_ACCOUNT}/models`, modelBody(`durable-${w % 3}`, { tags: [`w${w}`] }));
          if (res.status === 200) acknowledged.push(res.body);
        } catch {
          // The connection died with the stack: this one was never acknowledged.
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    // Killed once writes are well under way (a loaded machine acknowledges fewer per second).
    const deadline = Date.now() + 30_000;
    while (acknowledged.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await stack.kill9();
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(20);

    stack = await startLocalStack({ dataDir: stack.dataDir, ports: stack.ports });
    const after = new ApiClient(stack.apiBaseUrl, api.token);
    for (const model of acknowledged) {
      const res = await after.get(`${DEFAULT_ACCOUNT}/models/${model.id}`);
      expect(res.status, model.id).toBe(200);
      expect(res.body).toMatchObject(model);
    }
    // Versions stay gapless and unique per name, and registering goes on from the last one.
    const { items } = await readAllPages(after, `${DEFAULT_ACCOUNT}/models`, { count: "1000" });
    for (const name of ["durable-0", "durable-1", "durable-2"]) {
      const versions = items
        .filter((m) => m.name === name)
        .map((m) => m.version)
        .sort((a, b) => a - b);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      const next = await after.post(`${DEFAULT_ACCOUNT}/models`, modelBody(name));
      expect(next.body.version).toBe(versions.length + 1);
    }
  });
});
