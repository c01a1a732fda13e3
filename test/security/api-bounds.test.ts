import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { sharedStack } from "../support/shared-stack.js";
import { ApiClient, DEFAULT_ACCOUNT, createAccount, modelBody } from "../support/api-client.js";

/**
 * What an attacker can do to the API before and after showing a token: bodies are bounded before
 * the token is checked, Event Grid deliveries need the extension key, skip tokens stay with the
 * list and account that issued them, SAS signatures are never shown, the data files are private.
 */
let stack: Awaited<ReturnType<typeof sharedStack>>;
let hostBaseUrl: string;

beforeAll(async () => {
  stack = await sharedStack();
  hostBaseUrl = stack.apiBaseUrl.replace(/\/api$/, "");
});

/** The resident set of a process, and its peak, in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** The local Functions host's process, found among the stack's children by its command line. */
function hostPid(): number {
  const { pids } = JSON.parse(readFileSync(join(stack.dataDir, "stack.json"), "utf8")) as { pids: number[] };
  const pid = pids.find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("functions-host/main.js"));
  if (!pid) throw new Error("the stack's Functions host process was not found");
  return pid;
}

/** POSTs `size` bytes without a token, streamed; the status it gets, or 0 when the connection is cut. */
function unauthenticatedUpload(path: string, size: number): Promise<number> {
  const { hostname, port } = new URL(stack.apiBaseUrl);
  return new Promise((resolve) => {
    const req = request(
      { host: hostname, port: Number(port), path, method: "POST", headers: { "content-type": "application/json", "content-length": size } },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", () => resolve(0));
    const piece = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const more = (): void => {
      while (sent < size) {
        const n = Math.min(piece.length, size - sent);
        sent += n;
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) return void req.once("drain", more);
      }
      req.end();
    };
    more();
  });
}

describe("the API under hostile callers", () => {
  it("reads a small body at most before the token is checked: 8 unauthenticated 95 MB bodies leave the host's memory bounded", async () => {
    const pid = hostPid();
    const before = memoryOf(pid);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        unauthenticatedUpload(`/api/${DEFAULT_ACCOUNT}/models?api-version=2018-04-01-preview`, 95 * 1024 * 1024),
      ),
    );
    for (const s of statuses) expect([413, 0]).toContain(s);
    expect(statuses).toContain(413);
    const after = memoryOf(pid);
    // Reading them whole cost 1.2 GB; bounded, the host grows by far less than one body.
    expect(after.peak - before.peak).toBeLessThan(64 * 1024 * 1024);
    expect((await stack.owner.get(`${DEFAULT_ACCOUNT}/models`)).status).toBe(200);
  }, 120_000);

  it("refuses an Event Grid delivery without the extension key, or with a wrong one, and registers nothing", async () => {
    const name = `forged-${randomUUID().slice(0, 6)}`;
    const event = [
      {
        id: randomUUID(),
        subject: `/blobServices/default/containers/models/blobs/00000000-0000-0000-0000-000000000000/local/default/${name}/model.pkl`,
        eventType: "Microsoft.Storage.BlobCreated",
        eventTime: new Date().toISOString(),
        dataVersion: "",
        data: {
          api: "PutBlob",
          url: `https://evil.example.com/${name}/model.pkl`,
          eTag: "0x1",
          contentType: "application/octet-stream",
          contentLength: 1,
          blobType: "BlockBlob",
        },
      },
    ];
    for (const query of ["", "&code=", "&code=guessed-key"]) {
      const res = await fetch(`${hostBaseUrl}/runtime/webhooks/eventgrid?functionName=modelBlobCreated${query}`, {
        method: "POST",
        headers: { "aeg-event-type": "Notification", "content-type": "application/json" },
        body: JSON.stringify(event),
      });
      expect(res.status, query).toBe(401);
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect((await stack.owner.get(`${DEFAULT_ACCOUNT}/models`, { name })).body.value).toEqual([]);
  });

  it("refuses a skip token issued for another account's list (400), even for the same caller", async () => {
    const one = await createAccount(stack.owner, `skip-a-${randomUUID().slice(0, 6)}`);
    const two = await createAccount(stack.owner, `skip-b-${randomUUID().slice(0, 6)}`);
    for (const account of [one, two])
      for (const n of [1, 2, 3]) expect((await stack.owner.post(`${account}/models`, modelBody(`m${n}`))).status).toBe(200);
    const first = await stack.owner.get(`${one}/models`, { count: "1" });
    const skipToken = new URL(first.body.nextLink).searchParams.get("$skipToken")!;
    expect((await stack.owner.get(`${one}/models`, { count: "1", $skipToken: skipToken })).status).toBe(200);
    const replayed = await stack.owner.get(`${two}/models`, { count: "1", $skipToken: skipToken });
    expect(replayed.status).toBe(400);
    expect(replayed.body.code).toBe("InvalidSkipToken");
    expect(replayed.body.message).toMatch(/another list/);
  });

  it("never shows a SAS signature: not to a Reader, not to the Owner", async () => {
    const account = await createAccount(stack.owner, `sas-${randomUUID().slice(0, 6)}`);
    const readerId = randomUUID();
    expect((await stack.owner.put(`${account}/roleAssignments/${readerId}`, { role: "Reader" })).status).toBe(201);
    const signed =
      "https://store.blob.core.windows.net/models/m.pkl?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=SECRET%2FSIGNATURE%3D";
    const model = await stack.owner.post(`${account}/models`, modelBody("signed", { url: signed }));
    expect(model.status, model.text).toBe(200);
    const manifest = await stack.owner.post(`${account}/manifests`, {
      name: "signed",
      driverProgram: "score.py",
      assets: [{ id: "score.py", url: signed.replace("m.pkl", "score.py") }],
      modelIds: [model.body.id],
      targetRuntime: { runtimeType: "Python", properties: { pipRequirements: signed.replace("m.pkl", "requirements.txt") } },
    });
    expect(manifest.status, manifest.text).toBe(200);
    const reader = new ApiClient(stack.apiBaseUrl, await stack.token(readerId));
    for (const api of [stack.owner, reader]) {
      const views = [
        await api.get(`${account}/models/${model.body.id}`),
        await api.get(`${account}/models`),
        await api.get(`${account}/manifests/${manifest.body.id}`),
        await api.get(`${account}/manifests`),
      ];
      for (const view of views) {
        expect(view.status, view.text).toBe(200);
        expect(view.text).not.toContain("SECRET");
      }
      expect(views[0]!.body.url).toBe(
        "https://store.blob.core.windows.net/models/m.pkl?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=REDACTED",
      );
    }
    expect(model.text).not.toContain("SECRET");
  });

  it("keeps the data directory to the stack's user: 0700 folders, 0600 secrets and journal", () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(stack.dataDir)).toBe(0o700);
    expect(mode(join(stack.dataDir, "auth"))).toBe(0o700);
    for (const secret of ["signing-key.json", "runtime-token", "service-keys.secret", "eventgrid-extension.key"])
      expect(mode(join(stack.dataDir, "auth", secret)), secret).toBe(0o600);
    expect(mode(join(stack.dataDir, "cosmos", "journal.jsonl")) & 0o077).toBe(0);
  });
});
