import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { requirePythonModules, requireTool } from "../support/tools.js";
import { SKLEARN_DRIVER } from "../fixtures/drivers.js";
import { writeIrisProject } from "../fixtures/drivers-2017.js";

/**
 * The README's shell blocks, run as a reader runs them, against a local stack of the test's own.
 * Two things differ from a reader's terminal, both by environment only: the stack's ports (the
 * README's `127.0.0.1:7071` becomes this stack's) and its data (`DATA_DIR`, which `mm` and
 * `npm run token` read, so that the developer's own `.data` stays out of it). `npm link` links
 * into a prefix of the test's own. Every `sh` block is either run here or named in NOT_RUN with
 * the reason, so a block added to the README cannot go untried by accident.
 */

/** Debian's Python, with scikit-learn and pandas, as the README's 2017 section says to use. */
const PYTHON = "/usr/bin/python3";

/** Blocks not run here, by their first line, and why. */
const NOT_RUN: Record<string, string> = {
  "npm ci && npm start": "the stack itself: every test starts it; test/stack/start.test.ts runs `npm start` at a terminal",
  'az storage blob upload --connection-string "UseDevelopmentStorage=true" -c models \\':
    "needs the Azure CLI, which cannot be installed here; test/api/model-blob-drops.test.ts drops the same blobs with the Storage SDK",
  "npm cit": "the test suite itself",
  "npm run bench                 # every benchmark under bench/": "test/bench/smoke.test.ts runs every benchmark on tiny sizes",
  "npm ci                                   # builds dist/": "needs Azure Functions Core Tools (`func`), which cannot be installed here",
  "npm ci && azd up      # asks for an environment name, a subscription, a region and a resource group":
    "deploys to Azure with azd, which cannot be installed here; test/cloud/azd.test.ts checks azure.yaml and runs its hooks against a fake Graph",
  "az login": "deploys to Azure",
  "mm login --endpoint <API_BASE_URL> --scope api://<AUTH_CLIENT_ID>/.default \\": "needs a deployment in Azure",
};

/** The blocks run here, by their first line. */
const LINK = "npm link --ignore-scripts    # links this project's `mm` (dist/ is already built by npm ci)";
const QUICK_START = "mm service create realtime -f score.py --model-file model.pkl -r python -n app";
const CALL_THE_API = "TOKEN=$(npm run --silent token)";
const IMAGE = `curl -si -X POST "$ACCOUNT/images?$V" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`;
const SCORE_WITH_CURL = "SCORING_URI=$(mm service show realtime -i app --query scoringUri -o tsv)";
const SCHEMA_2017 = "PYTHONPATH=<this project>/scoring python3 score_iris.py   # main() calls generate_schema: service_schema.json";
const TUTORIAL_2017 = "cd myIris";

interface ShellBlock {
  line: number;
  text: string;
}

function shellBlocks(markdown: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```sh") continue;
    const end = lines.indexOf("```", i + 1);
    blocks.push({ line: i + 2, text: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}

const firstLine = (block: ShellBlock): string => block.text.split("\n")[0] ?? "";

let stack: LocalStack;
let blocks: Map<string, ShellBlock>;
let work: string;
let prefix: string;
let pythonBin: string;

beforeAll(async () => {
  requireTool("curl", "curl");
  requireTool("jq", "jq");
  requirePythonModules(PYTHON, ["sklearn", "pandas", "joblib"], "python3-sklearn python3-pandas");
  blocks = new Map(shellBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8")).map((b) => [firstLine(b), b]));
  work = mkdtempSync(join(tmpdir(), "mm-readme-"));
  prefix = join(work, "npm-prefix");
  // `python3` on the reader's PATH is the one with scikit-learn (here: Debian's).
  pythonBin = join(work, "python-bin");
  mkdirSync(pythonBin);
  symlinkSync(PYTHON, join(pythonBin, "python3"));
  stack = await startLocalStack({ env: { PYTHON } });
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs README blocks one after the other in one bash, stopping at the first command that fails. */
async function runBlocks(firstLines: string[], cwd: string): Promise<string> {
  const apiOrigin = new URL(stack.apiBaseUrl).origin;
  const script = firstLines
    .map((first) => {
      const block = blocks.get(first);
      if (!block) throw new Error(`The README has no shell block starting with: ${first}`);
      return block.text.replaceAll("http://127.0.0.1:7071", apiOrigin).replaceAll("<this project>", PROJECT_ROOT);
    })
    .join("\n");
  const child = spawn("bash", ["-e", "-o", "pipefail", "-c", script], {
    cwd,
    env: {
      ...process.env,
      PATH: [join(prefix, "bin"), pythonBin, process.env.PATH].join(":"),
      DATA_DIR: stack.dataDir,
      MM_CONFIG_DIR: join(work, "mm-config"),
      npm_config_prefix: prefix,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((r) => child.once("close", r));
  if (code !== 0) throw new Error(`The README's blocks (${firstLines.join(" | ")}) exited ${code}.\nstdout: ${stdout}\nstderr: ${stderr}`);
  return stdout;
}

describe("the README's shell blocks", () => {
  it("are each run here or say why not", () => {
    const unaccounted = [...blocks.keys()].filter(
      (first) =>
        !(first in NOT_RUN) && ![LINK, QUICK_START, CALL_THE_API, IMAGE, SCORE_WITH_CURL, SCHEMA_2017, TUTORIAL_2017].includes(first),
    );
    expect(unaccounted, "README shell blocks that this test neither runs nor names in NOT_RUN").toEqual([]);
    for (const first of Object.keys(NOT_RUN))
      expect(blocks.has(first), `NOT_RUN names a block the README no longer has: ${first}`).toBe(true);
  });

  it("put mm on the PATH with npm link, and deploy and score the quick start's files from their own folder", async () => {
    await runBlocks([LINK], PROJECT_ROOT);
    expect(realpathSync(join(prefix, "bin", "mm"))).toBe(realpathSync(join(PROJECT_ROOT, "dist", "cli", "main.js")));

    // The quick start's folder: a score.py and a scikit-learn model of rows of three numbers.
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "score.py"), SKLEARN_DRIVER);
    execFileSync(PYTHON, [
      "-c",
      `import joblib, numpy as np
from sklearn.linear_model import LinearRegression
X = np.random.default_rng(7).random((50, 3))
joblib.dump(LinearRegression().fit(X, X @ np.array([1.0, 2.0, 3.0])), "${join(app, "model.pkl")}")`,
    ]);
    const stdout = await runBlocks([QUICK_START, SCORE_WITH_CURL], app);
    // The prediction for [1, 2, 3] is 1 + 4 + 9, once from `mm service run`, once from curl.
    const predictions = [...stdout.replace(/\s+/g, "").matchAll(/\[(-?[\d.]+(?:e[+-]?\d+)?)\]/g)].map((m) => Number(m[1]));
    expect(predictions, stdout).toHaveLength(2);
    for (const p of predictions) expect(p).toBeCloseTo(14, 6);
  });

  it("call the API with curl: register a model, list it, create a manifest, and start an image build", async () => {
    const stdout = await runBlocks([CALL_THE_API, IMAGE], PROJECT_ROOT);
    const modelId = /^model ([0-9a-f-]{36})$/m.exec(stdout)?.[1];
    const manifestId = /^manifest ([0-9a-f-]{36})$/m.exec(stdout)?.[1];
    expect(modelId, stdout).toBeDefined();
    expect(manifestId, stdout).toBeDefined();
    expect(stdout).toContain(`"id": "${modelId}"`);
    expect(stdout).toMatch(/^HTTP\/1\.1 202/m);
    expect(stdout).toMatch(new RegExp(`^Operation-Location: ${new URL(stack.apiBaseUrl).origin}/api/.*/operations/`, "mi"));
  });

  it("deploy a 2017 project with the tutorial's command, after making its schema as in 2017", async () => {
    const project = join(work, "myIris");
    mkdirSync(project);
    writeIrisProject(project, PYTHON, { tutorial: true, makeSchema: false });
    await runBlocks([SCHEMA_2017], project);
    expect(JSON.parse(readFileSync(join(project, "service_schema.json"), "utf8"))).toHaveProperty("input.input_df");
    const stdout = await runBlocks([TUTORIAL_2017], work);
    // Both runs score the same flower, the schema's example and the one given with -d.
    expect(stdout.split("\n").filter((line) => line === '"Iris-setosa"')).toHaveLength(2);
    expect(stdout).toMatch(/"secondaryKey": "[^"]+"/);
  });
});
