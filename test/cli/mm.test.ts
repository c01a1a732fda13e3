import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { sharedStack } from "../support/shared-stack.js";
import { DEFAULT_ACCOUNT } from "../support/api-client.js";
import { mmRunner } from "../support/mm.js";
import { requireTool } from "../support/tools.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { freePort } from "../../devhost/ports.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

let mm: ReturnType<typeof mmRunner>["run"];
let work: string;

beforeAll(async () => {
  const { dataDir } = await sharedStack();
  mm = mmRunner(dataDir).run;
  work = mkdtempSync(join(tmpdir(), "mm-cli-"));
  writeFileSync(join(work, "score.py"), LINEAR_DRIVER);
  writeFileSync(join(work, "model.json"), LINEAR_MODEL);
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 6)}`;

describe("mm: the one-command quick start", () => {
  it("goes from score.py and a model file to a scoring service that answers with the model's prediction", async () => {
    const name = unique("qs");
    const created = await mm(
      ["service", "create", "realtime", "-f", "score.py", "--model-file", "model.json", "-r", "python", "-n", name],
      { cwd: work },
    );
    expect(created.code, created.stderr).toBe(0);
    const service = created.json();
    expect(service).toMatchObject({ name, state: "Succeeded" });
    expect(service.scoringUri).toMatch(new RegExp(`/api/v1/service/${name}-[0-9a-f]+/score$`));
    // The build log was streamed while waiting, and the usage printed at the end.
    expect(created.stderr).toContain("layer 3/3: models");
    expect(created.stderr).toContain(`Scoring URL:  ${service.scoringUri}`);
    expect(created.stderr).toContain("curl -X POST");

    const scored = await mm([
      "service",
      "run",
      "realtime",
      "-i",
      name,
      "-d",
      JSON.stringify({
        data: [
          [1, 1, 1],
          [1, 2, 3],
        ],
      }),
    ]);
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.json()).toEqual([6, 14]);

    // The sample curl's key lookup works as printed.
    const key = await mm(["service", "keys", "realtime", "-i", service.id, "--query", "primaryKey", "-o", "tsv"]);
    const res = await fetch(service.scoringUri, {
      method: "POST",
      headers: { authorization: `Bearer ${key.stdout.trim()}`, "content-type": "application/json" },
      body: JSON.stringify({ data: [[2, 2, 2]] }),
    });
    expect(await res.json()).toEqual([12]);

    const logs = await mm(["service", "logs", "realtime", "-i", name]);
    expect(logs.stdout).toContain("driver ready");

    const regen = await mm(["service", "keys", "realtime", "-i", name, "--regen", "Primary"]);
    expect(regen.code, regen.stderr).toBe(0);
    expect(regen.json().primaryKey).not.toBe(key.stdout.trim());
    const stale = await fetch(service.scoringUri, {
      method: "POST",
      headers: { authorization: `Bearer ${key.stdout.trim()}` },
      body: "{}",
    });
    expect(stale.status).toBe(401);

    const deleted = await mm(["service", "delete", "realtime", "-i", name]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await mm(["service", "show", "realtime", "-i", name]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no service with the id or name "${name}"`);
  });

  it("packs a folder into a tar.gz that the image unpacks, and builds from ids with --no-wait and operation wait", async () => {
    const dir = join(work, unique("weights"));
    mkdirSync(join(dir, "nested"), { recursive: true });
    writeFileSync(join(dir, "model.json"), JSON.stringify({ weights: [10, 0, 0] }));
    writeFileSync(join(dir, "nested", "extra.txt"), "kept");
    const model = await mm(["model", "register", "-m", dir, "-n", unique("folder")]);
    expect(model.code, model.stderr).toBe(0);
    expect(model.json()).toMatchObject({ version: 1, mimeType: "application/gzip", unpack: true });

    const manifest = await mm(["manifest", "create", "-n", unique("folder"), "-f", "score.py", "-r", "python", "-i", model.json().id], {
      cwd: work,
    });
    expect(manifest.code, manifest.stderr).toBe(0);
    const image = await mm(["image", "create", "-n", unique("folder"), "--manifest-id", manifest.json().id, "--no-wait"]);
    expect(image.code, image.stderr).toBe(0);
    const { operationId } = image.json<{ operationId: string }>();
    const waited = await mm(["operation", "wait", "-i", operationId]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain("unpack");
    const imageId = new URL(waited.json().resourceLocation).pathname.split("/").pop()!;

    const name = unique("folder");
    const service = await mm([
      "service",
      "create",
      "realtime",
      "-n",
      name,
      "--image-id",
      imageId,
      "--replica-max-concurrent-requests",
      "4",
      "--batch-max-size",
      "4",
      "--batch-max-wait-ms",
      "3",
    ]);
    expect(service.code, service.stderr).toBe(0);
    expect(service.json()).toMatchObject({
      maxConcurrentRequestsPerContainer: 4,
      numReplicas: 1,
      batching: { maxBatchSize: 4, maxWaitInMilliseconds: 3 },
    });
    const halfBatching = await mm(["service", "update", "realtime", "-i", name, "--batch-max-wait-ms", "5"]);
    expect(halfBatching.code).toBe(2);
    expect(halfBatching.stderr).toContain("--batch-max-wait-ms goes with --batch-max-size");
    const scored = await mm(["service", "run", "realtime", "-i", name, "-d", '{"data": [[1, 5, 5]]}']);
    expect(scored.json()).toEqual([10]);
    expect((await mm(["service", "delete", "realtime", "-i", name])).code).toBe(0);
  });
});

describe("mm: updates, usage and verbose output", () => {
  it("updates a service to a new image, lists its deployments, prints its usage, and says what it does with -v", async () => {
    const name = unique("upd");
    const created = await mm(
      ["service", "create", "realtime", "-f", "score.py", "--model-file", "model.json", "-r", "python", "-n", name],
      { cwd: work },
    );
    expect(created.code, created.stderr).toBe(0);
    writeFileSync(join(work, "double.py"), LINEAR_DRIVER.replace("return [sum(", "return [2 * sum("));
    const image = await mm(["image", "create", "-n", name, "-f", "double.py", "-r", "python", "-m", "model.json"], { cwd: work });
    expect(image.code, image.stderr).toBe(0);
    const updated = await mm(["service", "update", "realtime", "-i", name, "--image-id", image.json().id, "-v"]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.json().imageId).toBe(image.json().id);
    expect(updated.stderr).toMatch(
      /\[mm\] PUT \/api\/subscriptions\/.*\/services\/[0-9a-f-]+\?api-version=2017-09-01-preview → 202 in \d+ ms/,
    );
    expect((await mm(["service", "run", "realtime", "-i", name, "-d", '{"data":[[1,2,3]]}'])).json()).toEqual([28]);

    const deployments = await mm([
      "service",
      "deployments",
      "realtime",
      "-i",
      name,
      "--query",
      "[].{image: imageId, expired: expiredAt != null}",
    ]);
    expect(deployments.json()).toEqual(
      expect.arrayContaining([
        { image: image.json().id, expired: false },
        { image: created.json().imageId, expired: true },
      ]),
    );
    const usage = await mm(["service", "usage", "realtime", "-i", name]);
    expect(usage.stdout).toContain(`Scoring URL:  ${created.json().scoringUri}`);
    expect(usage.stdout).toContain("/swagger.json");
    const nothing = await mm(["service", "update", "realtime", "-i", name]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("nothing to update");
    expect((await mm(["service", "delete", "realtime", "-i", name])).code).toBe(0);
  });

  it("asks a hosted endpoint for its Entra ID scope", async () => {
    const login = await mm(["login", "--endpoint", "https://mm.example.com/api"]);
    expect(login.code).toBe(2);
    expect(login.stderr).toContain("needs --scope");
  });
});

describe("mm: models, output and queries", () => {
  it("registers versions, lists them as json, table and tsv, and applies --query", async () => {
    const name = unique("m");
    const first = await mm(["model", "register", "-m", join(work, "model.json"), "-n", name, "-t", "a", "-t", "b", "-d", "first"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ name, version: 1, tags: ["a", "b"], description: "first", mimeType: "application/json" });
    const second = await mm(["model", "register", "-m", join(work, "model.json"), "-n", name]);
    expect(second.json().version).toBe(2);

    const versions = await mm(["model", "list", "-n", name, "--query", "[].version", "-o", "tsv"]);
    expect(versions.stdout).toBe("2\n1\n");
    const table = await mm(["model", "list", "-n", name, "-o", "table"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^Name\s+Version\s+Id\s+MimeType\s+Created$/);
    expect(table.stdout).toContain(first.json().id);
    const shown = await mm(["model", "show", "-i", first.json().id, "--query", "{n: name, v: version}"]);
    expect(shown.json()).toEqual({ n: name, v: 1 });
    const top = await mm(["model", "list", "-n", name, "--top", "1"]);
    expect(top.json()).toHaveLength(1);
  });

  it("deletes a model: asks first on a terminal, never when piped, and prints {id, deleted}", async () => {
    const name = unique("del");
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await mm(["model", "register", "-m", join(work, "model.json"), "-n", name])).json().id);

    const piped = await mm(["model", "delete", "-i", ids[0]!]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.json()).toEqual({ id: ids[0], deleted: true });
    const again = await mm(["model", "delete", "-i", ids[0]!]);
    expect(again.json()).toEqual({ id: ids[0], deleted: false });
    expect(again.stderr).toContain("already deleted");

    requireTool("script", "bsdutils");
    const { dataDir } = await sharedStack();
    const cli = join(PROJECT_ROOT, "dist", "cli", "main.js");
    const onTty = (answer: string) =>
      spawnSync("script", ["-qec", `node ${cli} model delete -i ${ids[1]}`, "/dev/null"], {
        env: { ...process.env, DATA_DIR: dataDir, MM_CONFIG_DIR: mkdtempSync(join(tmpdir(), "mm-config-")) },
        input: answer,
        encoding: "utf8",
      });
    const declined = onTty("n\n");
    expect(declined.stdout).toContain(`Delete model ${name} v2 (${ids[1]})? [y/N]`);
    expect(declined.stdout).toContain("Nothing was deleted");
    expect(declined.status).toBe(1);
    expect((await mm(["model", "show", "-i", ids[1]!])).code).toBe(0);
    const confirmed = onTty("y\n");
    expect(confirmed.status, confirmed.stdout).toBe(0);
    expect(confirmed.stdout).toMatch(/"deleted": true/);
    expect((await mm(["model", "show", "-i", ids[1]!])).code).toBe(1);
  });
});

describe("mm: errors", () => {
  it("shows the ErrorResponse's message with exit 1 and never a stack trace", async () => {
    const missing = await mm(["model", "show", "-i", "no-such-model"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("mm: No model with id no-such-model exists in this account.\n");
    const invalid = await mm(["service", "create", "realtime", "-n", "Not_Valid", "--image-id", "x"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^mm: .*\n {2}- name: must be 1-32 lowercase letters/);
    expect(invalid.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("answers command-line mistakes with exit 2 and usage", async () => {
    const noId = await mm(["model", "show"]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("required option '-i, --id <id>' not specified");
    const badQuery = await mm(["model", "list", "--query", "[?"]);
    expect(badQuery.code).toBe(2);
    expect(badQuery.stderr).toContain("is not valid JMESPath");
    const badOutput = await mm(["model", "list", "-o", "xml"]);
    expect(badOutput.code).toBe(2);
    const badAccount = await mm(["model", "list", "--account", "nope"]);
    expect(badAccount.code).toBe(2);
    expect(badAccount.stderr).toContain("is not an account");
  });

  it("says when the service cannot be reached, and when the file does not exist", async () => {
    const port = await freePort();
    const down = await mm(["model", "list", "--endpoint", `http://127.0.0.1:${port}/api`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^mm: Could not reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    const noFile = await mm(["model", "register", "-m", join(work, "absent.pkl")]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain("absent.pkl: no such file or folder.");
  });

  it("fails an image whose driver does not compile with the build's own error", async () => {
    writeFileSync(join(work, "broken.py"), "def run(raw)\n    return raw\n");
    const failed = await mm(["image", "create", "-n", unique("broken"), "-f", "broken.py", "-r", "python", "-m", "model.json"], {
      cwd: work,
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/mm: image broken-\w+ failed: .*broken\.py/);
  });
});

describe("mm: sign-in, accounts, completion", () => {
  it("takes flags over environment variables over the saved profile over the project's stack, and says where an unreachable endpoint came from", async () => {
    const { dataDir, apiBaseUrl } = await sharedStack();
    const config = mkdtempSync(join(tmpdir(), "mm-config-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "mm-cwd-"));
    // A clone of the project of its own (its dist/, as `npm link` puts it on PATH), so that its
    // default stack, <clone>/.data, is the test's and not the developer's.
    const clone = mkdtempSync(join(tmpdir(), "mm-clone-"));
    cpSync(join(PROJECT_ROOT, "dist"), join(clone, "dist"), { recursive: true });
    cpSync(join(PROJECT_ROOT, "package.json"), join(clone, "package.json"));
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(clone, "node_modules"));
    const cloneCli = join(clone, "dist", "cli", "main.js");
    const bare = mmRunner(dataDir, { DATA_DIR: undefined, MM_CONFIG_DIR: config }, cloneCli).run;
    const withDataDir = mmRunner(dataDir, { MM_CONFIG_DIR: config }).run;
    const nothing = await bare(["model", "list"], { cwd: elsewhere });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`No local stack has run with data in ${join(clone, ".data")}: start one with \`npm start\``);
    // From any folder, mm finds the stack that its own project's `npm start` runs.
    symlinkSync(dataDir, join(clone, ".data"));
    const found = await bare(["model", "list", "--top", "1"], { cwd: elsewhere });
    expect(found.code, found.stderr).toBe(0);
    rmSync(join(clone, ".data"));

    // A profile saved for a stack that is gone.
    const dead = await freePort();
    writeFileSync(
      join(config, "profile.json"),
      JSON.stringify({ endpoint: `http://127.0.0.1:${dead}/api`, account: DEFAULT_ACCOUNT, auth: { kind: "local", dataDir } }),
    );
    const stale = await bare(["model", "list", "--top", "1"], { cwd: elsewhere });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      `Could not reach http://127.0.0.1:${dead} (ECONNREFUSED), the endpoint of the profile ${join(config, "profile.json")}`,
    );
    expect(stale.stderr).toContain("mm logout forgets it");
    expect((await bare(["model", "list", "--top", "1", "--data-dir", dataDir], { cwd: elsewhere })).code).toBe(0);
    expect((await withDataDir(["model", "list", "--top", "1"], { cwd: elsewhere })).code).toBe(0);

    const flag = await withDataDir(["model", "list", "--endpoint", `http://127.0.0.1:${dead}`]);
    expect(flag.stderr).toContain(`the endpoint of --endpoint http://127.0.0.1:${dead}`);
    // The host alone, as 2017's base URLs were, or the /api base: both reach the API.
    for (const endpoint of [new URL(apiBaseUrl).origin, `${new URL(apiBaseUrl).origin}/`, apiBaseUrl]) {
      const res = await withDataDir(["model", "list", "--top", "1", "--endpoint", endpoint]);
      expect(res.code, `${endpoint}: ${res.stderr}`).toBe(0);
    }
  });

  it("logs in to the local stack, shows and sets the account, and logs out", async () => {
    const { dataDir } = await sharedStack();
    const runner = mmRunner(dataDir);
    const login = await runner.run(["login"]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain("Signed in to http://127.0.0.1:");
    const shown = await runner.run(["account", "show", "--query", "name", "-o", "tsv"]);
    expect(shown.stdout).toBe("default\n");
    const set = await runner.run(["account", "set", "00000000-0000-0000-0000-000000000000/local/elsewhere"]);
    expect(set.code).toBe(0);
    const other = await runner.run(["account", "show"]);
    expect(other.code).toBe(1);
    const created = await runner.run(["account", "create", "-l", "westeurope"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ name: "elsewhere", location: "westeurope" });
    const deleted = await runner.run(["account", "delete"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await runner.run(["logout"])).code).toBe(0);
  });

  it("completes commands in bash from the command tree", async () => {
    const script = await mm(["completion", "bash"]);
    expect(script.code).toBe(0);
    const complete = (words: string[]) =>
      execFileSync(
        "bash",
        [
          "-c",
          `${script.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _mm_complete; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8" },
      ).trim();
    expect(complete(["mm", "ser"])).toBe("service");
    expect(complete(["mm", "service", "create", "re"])).toBe("realtime");
    expect(complete(["mm", "service", "create", "realtime", "--autoscale-m"]).split(" ").sort()).toEqual([
      "--autoscale-max-replicas",
      "--autoscale-min-replicas",
    ]);
  });
});

describe("mm: long work is visible, and Ctrl-C stops only the waiting", () => {
  it("draws a progress bar on a terminal and none when piped", async () => {
    const big = join(work, "big.bin");
    writeFileSync(big, randomBytes(24 << 20));
    const piped = await mm(["model", "register", "-m", big, "-n", unique("piped")]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe("");

    requireTool("script", "bsdutils");
    const { dataDir } = await sharedStack();
    const cli = join(PROJECT_ROOT, "dist", "cli", "main.js");
    // script(1) gives the CLI a pseudo-terminal, as a person's shell would.
    const onTty = execFileSync("script", ["-qec", `node ${cli} model register -m ${big} -n ${unique("tty")} -o table`, "/dev/null"], {
      env: { ...process.env, DATA_DIR: dataDir, MM_CONFIG_DIR: mkdtempSync(join(tmpdir(), "mm-config-")) },
      encoding: "utf8",
    });
    expect(onTty).toMatch(/big\.bin .*100% \| 24\.0 MiB of 24\.0 MiB \| [\d.]+ [KMG]iB\/s/);
  });

  it("on SIGINT while waiting exits 130 and says how to follow the operation, which goes on to succeed", async () => {
    const model = join(work, "large.bin");
    writeFileSync(model, randomBytes(96 << 20));
    const name = unique("interrupted");
    let sent = false;
    const waiting = await mm(["image", "create", "-n", name, "-f", "score.py", "-r", "python", "-m", model], {
      cwd: work,
      onStderr: (text, child) => {
        if (!sent && text.includes(`image ${name}: `)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(waiting.code, waiting.stderr).toBe(130);
    const id = /Stopped waiting; operation (\S+) goes on\. Follow it with: mm operation wait -i \1/.exec(waiting.stderr)?.[1];
    expect(id, waiting.stderr).toBeDefined();
    const resumed = await mm(["operation", "wait", "-i", id!]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json()).toMatchObject({ id, state: "Succeeded", operationType: "Image" });
  });
});
