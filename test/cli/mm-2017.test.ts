import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { mmRunner } from "../support/mm.js";
import { requirePythonModules } from "../support/tools.js";
import { today, waitForBlob } from "../support/blobs.js";
import { writeIrisProject } from "../fixtures/drivers-2017.js";

/** Debian's Python, with scikit-learn and pandas for the 2017 iris project. */
const PYTHON = "/usr/bin/python3";
let stack: LocalStack;
let mm: ReturnType<typeof mmRunner>["run"];
let project: string;

beforeAll(async () => {
  requirePythonModules(PYTHON, ["sklearn", "pandas", "joblib"], "python3-sklearn python3-pandas");
  project = mkdtempSync(join(tmpdir(), "mm-iris-2017-"));
  writeIrisProject(project, PYTHON);
  stack = await startLocalStack({ env: { PYTHON, OPERATION_STALL_SECONDS: "30" } });
  mm = mmRunner(stack.dataDir).run;
});

afterAll(async () => {
  await stack?.stop();
});

/** The tutorial's `service create realtime` of the iris project, naming the service. */
function tutorialCreate(name: string): string[] {
  return [
    "service",
    "create",
    "realtime",
    "-f",
    "score_iris.py",
    "--model-file",
    "model.pkl",
    "-s",
    "outputs/service_schema.json",
    "-n",
    name,
    "-r",
    "python",
  ];
}

describe("mm with a project written for the 2017 service", () => {
  it("deploys it with the tutorial's command, unchanged, and runs it as az ml did", async () => {
    // The tutorial's command, with the project's data folder as a dependency.
    const created = await mm(
      [...tutorialCreate("irisapp"), "--collect-model-data", "true", "-c", "aml_config/conda_dependencies.yml", "-d", "data"],
      { cwd: project },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ name: "irisapp", state: "Succeeded", dataCollection: { storageEnabled: true } });
    // The build log, streamed while waiting, says what happened to the conda file.
    expect(created.stderr).toContain('condaEnvFile: "- azure-ml-api-sdk==0.1.0a10" commented out');
    expect(created.stderr).toMatch(/conda file: \/var\/azureml-env\/conda_dependencies\.yml is NOT applied on the local runtime/);
    expect(created.stderr).toContain(
      'Sample input: {"input_df":[{"sepal length":3,"sepal width":3.6,"petal length":1.3,"petal width":0.25}]}',
    );

    // Without -d, the schema's example; a string result printed as az ml printed it, quotes included.
    const example = await mm(["service", "run", "realtime", "-n", "irisapp"]);
    expect(example.code, example.stderr).toBe(0);
    expect(example.stdout).toBe('"Iris-setosa"\n');
    const given = await mm([
      "service",
      "run",
      "realtime",
      "-i",
      "irisapp",
      "-d",
      '{"input_df": [{"petal width": 2.3, "sepal length": 7.7, "sepal width": 3.0, "petal length": 6.1}]}',
    ]);
    expect(given.stdout).toBe('"Iris-virginica"\n');
    const wrong = await mm(["service", "run", "realtime", "-n", "irisapp", "-d", '{"input": [1]}']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('The service answered 400: Unknown argument "input": run() takes input_df.');

    const usage = await mm(["service", "usage", "realtime", "-n", "irisapp"]);
    expect(usage.stdout).toContain(`-d '{"input_df":[{"sepal length":3,"sepal width":3.6,"petal length":1.3,"petal width":0.25}]}'`);
    // What it prints runs as printed, from any folder, with no mm on the PATH.
    const lines = usage.stdout.split("\n");
    const curl = lines
      .slice(
        lines.indexOf("Sample curl:") + 1,
        lines.findIndex((l) => l.startsWith("Or:")),
      )
      .join("\n");
    const or = lines
      .find((l) => l.startsWith("Or:"))!
      .slice("Or:".length)
      .trim();
    const elsewhere = mkdtempSync(join(tmpdir(), "mm-paste-"));
    const paste = (command: string) =>
      execFileSync("sh", ["-c", command], {
        cwd: elsewhere,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: elsewhere },
        encoding: "utf8",
      });
    expect(JSON.parse(paste(curl))).toBe('"Iris-setosa"');
    expect(paste(or)).toBe('"Iris-setosa"\n');

    // The 2017 key regeneration: --regen --key Secondary.
    const keys = (await mm(["service", "keys", "realtime", "-n", "irisapp"])).json();
    const regenerated = await mm(["service", "keys", "realtime", "-n", "irisapp", "--regen", "--key", "Secondary"]);
    expect(regenerated.code, regenerated.stderr).toBe(0);
    expect(regenerated.json().primaryKey).toBe(keys.primaryKey);
    expect(regenerated.json().secondaryKey).not.toBe(keys.secondaryKey);
    expect((await mm(["service", "keys", "realtime", "-n", "irisapp", "--key", "Primary"])).code).toBe(2);

    // What the driver collected went to the 2017 layout.
    const service = (await mm(["service", "show", "realtime", "-n", "irisapp"])).json();
    const model = service.models[0]!;
    const inputs = await waitForBlob(
      stack.ports.blobPort,
      "modeldata",
      `00000000-0000-0000-0000-000000000000/local/default/irisapp/${model.id}-model.pkl-${model.version}/inputs/${today()}/data.csv`,
      "7.7,3,6.1,2.3",
    );
    expect(inputs).toContain("3,3.6,1.3,0.25");
  });

  it("runs a failed create again after the driver is fixed, replacing the service that never served", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-iris-again-"));
    cpSync(project, dir, { recursive: true });
    const fixed = readFileSync(join(dir, "score_iris.py"), "utf8");
    writeFileSync(
      join(dir, "score_iris.py"),
      fixed.replace("model = joblib.load('model.pkl')", "model = joblib.load('model.pkl'); raise ValueError('the model is stale')"),
    );
    mkdirSync(join(dir, "notes"));
    writeFileSync(join(dir, "notes", "readme.txt"), "kept under its path");
    const command = [...tutorialCreate("again"), "-d", "data", "-d", "notes/readme.txt"];
    const failed = await mm(command, { cwd: dir });
    expect(failed.code).toBe(1);
    // The traceback's last lines, from the replica, in mm's own output.
    expect(failed.stderr).toContain("init() failed: ValueError: the model is stale");
    expect(failed.stderr).toMatch(/File ".*\/var\/azureml-app\/score_iris\.py", line \d+, in init/);

    writeFileSync(join(dir, "score_iris.py"), fixed);
    const retried = await mm(command, { cwd: dir });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).toMatch(/Service again exists from an earlier attempt whose deployment failed \(.*\): replacing it\./);
    expect((await mm(["service", "run", "realtime", "-n", "again"])).stdout).toBe('"Iris-setosa"\n');
    // -d kept the folder under its name and the file under its relative path, as the 2017 CLI did.
    const assets = retried.json().manifest.assets.map((a: { id: string; unpack?: boolean }) => [a.id, a.unpack ?? false]);
    expect(assets).toEqual(
      expect.arrayContaining([
        ["data.tar.gz", true],
        ["notes/readme.txt", false],
        ["service_schema.json", false],
        ["score_iris.py", false],
      ]),
    );
  });
});
