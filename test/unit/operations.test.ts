import { describe, expect, it } from "vitest";
import { Operations } from "../../shared/operations/operations.js";
import { ContinueLater, OperationFailure, type AttemptContext, type OperationKind } from "../../shared/operations/operation-kind.js";
import type { OperationDocument, StoredDocument, WithEtag } from "../../shared/store/documents.js";
import type { OperationMessage } from "../../shared/schemas/operations.js";
import { MemoryOperationStore } from "../support/memory-operation-store.js";

/** The resource of the test kind: a document whose state follows its operation. */
interface Thing extends StoredDocument {
  kind: "thing";
  state: string;
  result?: string;
  error?: string;
}

const PK = "subscriptions/s/resourceGroups/g/accounts/a";

/** A kind whose work the test scripts: each attempt runs the next step given. */
function thingKind(store: MemoryOperationStore, steps: ((ctx: AttemptContext) => Promise<string>)[]) {
  const sent: OperationMessage[] = [];
  /** The visibility delay of each message sent, in seconds (0: visible at once). */
  const delays: number[] = [];
  const calls: string[] = [];
  const kind: OperationKind<{ thing: WithEtag<Thing> }, string> = {
    type: "Image",
    noun: "thing build",
    poisonCode: "ThingFailed",
    queue: {
      send: async (m, options) => {
        sent.push(m);
        delays.push(options?.visibilityTimeoutSeconds ?? 0);
      },
    },
    async load({ operation }) {
      const thing = store.read<Thing>(operation.pk, operation.resourceId);
      if (!thing) throw new OperationFailure("ThingGone", "The thing is gone.");
      return { thing };
    },
    async running({ thing }) {
      return [{ ...thing, state: "Running" } as WithEtag<Thing>];
    },
    async work(_subject, ctx) {
      calls.push("work");
      const step = steps.shift();
      if (!step) throw new Error("no more steps");
      return step(ctx);
    },
    async after(_subject, _ctx, error) {
      const how =
        error === undefined ? "ok" : error instanceof OperationFailure ? "failure" : error instanceof ContinueLater ? "later" : "error";
      calls.push(`after:${how}`);
    },
    async ended(operation, outcome, subject) {
      calls.push(`ended:${subject ? "attempt" : "outside"}`);
      const thing = store.read<Thing>(operation.pk, operation.resourceId);
      if (!thing) return [];
      return [
        {
          ...thing,
          state: outcome.state,
          ...(outcome.state === "Succeeded" ? { result: outcome.result } : { error: outcome.error.code }),
        } as WithEtag<Thing>,
      ];
    },
  };
  return { kind, sent, delays, calls };
}

function setUp(
  steps: ((ctx: AttemptContext) => Promise<string>)[],
  options: { heartbeatMs?: number; stallMs?: number; deadlineMs?: number } = {},
) {
  const store = new MemoryOperationStore();
  const { kind, sent, delays, calls } = thingKind(store, steps);
  const operations = new Operations({
    store,
    kinds: [kind],
    heartbeatMs: options.heartbeatMs ?? 60_000,
    stallMs: options.stallMs ?? 120_000,
    deadlineMs: options.deadlineMs ?? 7_200_000,
  });
  const op = Operations.create("Image", PK, { id: "thing-1", path: `/api/${PK}/things/thing-1` });
  store.put<Thing>({ id: "thing-1", pk: PK, kind: "thing", state: "NotStarted" });
  store.put(op);
  const message = { operationId: op.id, accountPath: PK };
  const warnings: string[] = [];
  const execute = () => operations.execute("Image", message, (m) => warnings.push(m));
  const operation = () => store.read<OperationDocument>(PK, op.id)!;
  const thing = () => store.read<Thing>(PK, "thing-1")!;
  return { store, operations, op, message, execute, operation, thing, sent, delays, calls, warnings };
}

describe("the operations module", () => {
  it("runs an attempt to its end: the operation and its resource Succeeded together, with the kind's result", async () => {
    const t = setUp([async () => "built"]);
    await t.execute();
    expect(t.operation()).toMatchObject({ state: "Succeeded", attempts: 1 });
    expect(t.operation().error).toBeUndefined();
    expect(Date.parse(t.operation().endTime!)).toBeGreaterThanOrEqual(Date.parse(t.op.createdTime));
    expect(t.thing()).toMatchObject({ state: "Succeeded", result: "built" });
    expect(t.calls).toEqual(["work", "after:ok", "ended:attempt"]);
  });

  it("shows Running with the resource while the work runs, and keeps the heartbeat going", async () => {
    const seen: { state: string; thing: string; heartbeat: string }[] = [];
    const t: ReturnType<typeof setUp> = setUp(
      [
        async () => {
          seen.push({ state: t.operation().state, thing: t.thing().state, heartbeat: t.operation().heartbeatAt! });
          await new Promise((r) => setTimeout(r, 150));
          seen.push({ state: t.operation().state, thing: t.thing().state, heartbeat: t.operation().heartbeatAt! });
          return "done";
        },
      ],
      { heartbeatMs: 20 },
    );
    await t.execute();
    expect(seen.map((s) => [s.state, s.thing])).toEqual([
      ["Running", "Running"],
      ["Running", "Running"],
    ]);
    expect(seen[1]!.heartbeat > seen[0]!.heartbeat).toBe(true);
    expect(t.operation().state).toBe("Succeeded");
  });

  it("ends an OperationFailure Failed with its code and message, and the resource with it", async () => {
    const t = setUp([async () => Promise.reject(new OperationFailure("DriverDoesNotCompile", "score.py line 3"))]);
    await t.execute();
    expect(t.operation()).toMatchObject({
      state: "Failed",
      error: { code: "DriverDoesNotCompile", message: "score.py line 3", statusCode: 400 },
    });
    expect(t.thing()).toMatchObject({ state: "Failed", error: "DriverDoesNotCompile" });
    expect(t.calls).toEqual(["work", "after:failure", "ended:attempt"]);
  });

  it("keeps any other error on the operation and rethrows it for the host to retry; the next attempt goes on", async () => {
    const t = setUp([async () => Promise.reject(new Error("connection reset")), async () => "second time lucky"]);
    await expect(t.execute()).rejects.toThrow("connection reset");
    expect(t.operation()).toMatchObject({ state: "Running", attempts: 1, lastAttemptError: "connection reset" });
    expect(t.thing().state).toBe("Running");
    await t.execute();
    expect(t.operation()).toMatchObject({ state: "Succeeded", attempts: 2 });
    expect(t.thing()).toMatchObject({ state: "Succeeded", result: "second time lucky" });
  });

  it("parks work that goes on elsewhere, and takes it up again from its checkpoint as the same attempt", async () => {
    const seen: (Record<string, unknown> | undefined)[] = [];
    const t = setUp([
      async (ctx) => {
        seen.push(ctx.checkpoint);
        throw new ContinueLater({ run: "cb1", looks: 1 }, 300);
      },
      async (ctx) => {
        seen.push(ctx.checkpoint);
        throw new ContinueLater({ run: "cb1", looks: 2 }, 300);
      },
      async (ctx) => {
        seen.push(ctx.checkpoint);
        return "built elsewhere";
      },
    ]);
    const before = Date.now();
    await t.execute();
    // Still running, with its checkpoint; the next message is sent to arrive when the wait is over.
    expect(t.operation()).toMatchObject({ state: "Running", attempts: 1, checkpoint: { run: "cb1", looks: 1 } });
    expect(Date.parse(t.operation().notBefore!)).toBeGreaterThanOrEqual(before + 300_000);
    expect(t.sent).toEqual([t.message]);
    expect(t.delays).toEqual([300]);
    expect(t.thing().state).toBe("Running");
    // No sweep takes a parked operation up before it is due, and a stall period after that it does.
    const parkedAt = Date.parse(t.operation().heartbeatAt!);
    expect(await t.operations.sweep(parkedAt + 200_000)).toEqual({ requeued: 0, failed: 0 });

    await t.execute();
    await t.execute();
    expect(seen).toEqual([undefined, { run: "cb1", looks: 1 }, { run: "cb1", looks: 2 }]);
    expect(t.operation()).toMatchObject({ state: "Succeeded", attempts: 1 });
    expect(t.thing()).toMatchObject({ state: "Succeeded", result: "built elsewhere" });
    expect(t.calls).toEqual(["work", "after:later", "work", "after:later", "work", "after:ok", "ended:attempt"]);
  });

  it("sweeps a parked operation whose next message was lost once it is due and stalled", async () => {
    const t = setUp([async () => Promise.reject(new ContinueLater({ run: "cb9" }, 60))], { stallMs: 120_000 });
    await t.execute();
    const parkedAt = Date.parse(t.operation().heartbeatAt!);
    t.sent.length = 0; // the message never arrives
    expect(await t.operations.sweep(parkedAt + 60_000 + 120_000 + 1)).toEqual({ requeued: 1, failed: 0 });
    expect(t.sent).toEqual([t.message]);
  });

  it("leaves a finished operation alone when its message comes again", async () => {
    const t = setUp([async () => "once"]);
    await t.execute();
    const ended = t.operation();
    await t.execute();
    expect(t.operation()).toEqual(ended);
    expect(t.calls.filter((c) => c === "work")).toHaveLength(1);
  });

  it("fails the operation, without working, when its resource is gone", async () => {
    const t = setUp([async () => "never"]);
    t.store.remove(PK, "thing-1");
    await t.execute();
    expect(t.operation()).toMatchObject({ state: "Failed", error: { code: "ThingGone", message: "The thing is gone." } });
    expect(t.calls).toEqual(["ended:outside"]);
  });

  it("starts again from fresh reads when the operation changed under it, and never starts twice", async () => {
    const t = setUp([async () => "ok"]);
    let interfered = false;
    t.store.beforeCommit = () => {
      if (interfered) return;
      interfered = true;
      t.store.put({ ...t.operation(), heartbeatAt: "2000-01-01T00:00:00.000Z" });
    };
    await t.execute();
    expect(t.operation()).toMatchObject({ state: "Succeeded", attempts: 1 });
  });

  it("ends a poisoned message's operation Failed with the last attempt's error, the resource too", async () => {
    const t = setUp([async () => Promise.reject(new Error("ECONNREFUSED 10.0.0.1:443"))]);
    await expect(t.execute()).rejects.toThrow();
    await t.operations.poisoned("Image", t.message);
    expect(t.operation()).toMatchObject({
      state: "Failed",
      error: {
        code: "ThingFailed",
        message: "The thing build failed on every attempt; the last one: ECONNREFUSED 10.0.0.1:443.",
        statusCode: 500,
      },
    });
    expect(t.thing()).toMatchObject({ state: "Failed", error: "ThingFailed" });
    await t.operations.poisoned("Image", t.message);
    expect(t.operation().state).toBe("Failed");
  });

  it("sweeps: takes up a stalled operation again, fails one past its deadline, leaves live ones alone", async () => {
    const t = setUp([], { stallMs: 1000, deadlineMs: 60_000 });
    const now = Date.parse("2030-01-01T00:10:00.000Z");
    const at = (ms: number) => new Date(now - ms).toISOString();
    t.store.put({ ...t.operation(), createdTime: at(30_000), state: "Running", heartbeatAt: at(5_000) });
    const old = Operations.create("Image", PK, { id: "thing-2", path: "/x" });
    t.store.put<Thing>({ id: "thing-2", pk: PK, kind: "thing", state: "Running" });
    t.store.put({ ...old, createdTime: at(120_000), lastAttemptError: "disk full" });
    const live = Operations.create("Image", PK, { id: "thing-3", path: "/y" });
    t.store.put({ ...live, createdTime: at(30_000), state: "Running", heartbeatAt: at(100) });

    expect(await t.operations.sweep(now)).toEqual({ requeued: 1, failed: 1 });
    expect(t.sent).toEqual([{ operationId: t.op.id, accountPath: PK }]);
    expect(t.operation().heartbeatAt).toBe(new Date(now).toISOString());
    expect(t.store.read<OperationDocument>(PK, old.id)).toMatchObject({
      state: "Failed",
      error: { code: "OperationTimedOut", message: "The thing build did not finish within 60 s; its last attempt failed: disk full." },
    });
    expect(t.store.read<Thing>(PK, "thing-2")).toMatchObject({ state: "Failed", error: "OperationTimedOut" });
    expect(t.store.read<OperationDocument>(PK, live.id)!.heartbeatAt).toBe(at(100));
    // Swept again at once: the operation taken up is left alone for another stall period.
    expect(await t.operations.sweep(now + 10)).toEqual({ requeued: 0, failed: 0 });
  });

  it("enqueues a written operation's work, and only warns when the queue cannot be reached", async () => {
    const t = setUp([]);
    await t.operations.enqueue(t.op, (m) => t.warnings.push(m));
    expect(t.sent).toEqual([{ operationId: t.op.id, accountPath: PK }]);
    const broken = new Operations({
      store: t.store,
      kinds: [{ ...thingKind(t.store, []).kind, queue: { send: () => Promise.reject(new Error("queue down")) } }],
      heartbeatMs: 1000,
      stallMs: 1000,
      deadlineMs: 1000,
    });
    await broken.enqueue(t.op, (m) => t.warnings.push(m));
    expect(t.warnings).toEqual([`Operation ${t.op.id} was accepted but not enqueued (the sweeper will enqueue it): queue down`]);
  });
});
