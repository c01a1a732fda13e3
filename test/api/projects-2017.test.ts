import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, tokensFor, waitForOperation } from "../support/api-client.js";
import { startLocalStack, type LocalStack } from "../support/local-stack.js";
import { TestBlobs, today, waitForBlob } from "../support/blobs.js";
import { requirePythonModules } from "../support/tools.js";
import { tarOf } from "../fixtures/archives.js";
import { CONDA_2017, IRIS_COLUMNS, writeIrisProject } from "../fixtures/drivers-2017.js";
import { TINY_PACKAGE, buildWheelHouse } from "../fixtures/wheel-house.js";
import type { Swagger } from "../support/swagger.js";
import { jsonOf } from "../support/http.js";

/**
 * Projects written for the 2017 service, sent as the 2017 CLI sent them (the payloads its verbose
 * logs show): a driver asset called `driver` at a `<uuid>.py` URL, dependencies and the schema
 * as tar.gz archives to unpack (folders under their own names), pip and conda files as URLs, the
 * model as a tar.gz to unpack.
 */

/** Debian's Python: scikit-learn and pandas for the drivers, pip for the environments. */
const PYTHON = "/usr/bin/python3";
const A = DEFAULT_ACCOUNT;
let stack: LocalStack;
let api: ApiClient;
let blobs: TestBlobs;
let project: string;

beforeAll(async () => {
  requirePythonModules(PYTHON, ["sklearn", "pandas", "joblib", "pip"], "python3-sklearn python3-pandas python3-pip");
  project = mkdtempSync(join(tmpdir(), "mm-2017-"));
  writeIrisProject(project, PYTHON);
  const house = buildWheelHouse(join(project, "wheels"), PYTHON);
  // The user's own pip settings, as they would have them in their shell: no index, a wheel house.
  stack = await startLocalStack({ env: { PYTHON, OPERATION_STALL_SECONDS: "30", PIP_NO_INDEX: "1", PIP_FIND_LINKS: house } });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  blobs = new TestBlobs(stack.ports.blobPort);
});

afterAll(async () => {
  await stack?.stop();
});

const uuid32 = () => randomUUID().slice(0, 32);
const file = (path: string) => readFileSync(join(project, path), "utf8");

/** What `az ml service create realtime -f score_iris.py --model-file model.pkl -s … -d data -c … -p …` sent, step by step. */
async function deployAsThe2017Cli(
  name: string,
  options: { driver?: string; requirements?: string; reservation?: object; schema?: boolean } = {},
) {
  const model = await api.post(`${A}/models`, {
    name: "model.pkl",
    mimeType: "application/json",
    description: "",
    tags: [],
    unpack: true,
    url: await blobs.put(`${randomUUID()}.tar.gz`, await tarOf({ "model.pkl": readFileSync(join(project, "model.pkl")) }, { gzip: true })),
  });
  expect(model.status, model.text).toBe(200);
  const dependency = async (files: Record<string, string>) => ({
    id: uuid32(),
    mimeType: "application/octet-stream",
    unpack: true,
    url: await blobs.put(`${randomUUID()}.tar.gz`, await tarOf(files, { gzip: true })),
  });
  const manifest = await api.post(`${A}/manifests`, {
    description: null,
    driverProgram: "driver",
    modelType: "Registered",
    name,
    modelIds: [model.body.id],
    targetRuntime: {
      runtimeType: "Python",
      properties: {
        pipRequirements: await blobs.put(
          `requirements${randomUUID().slice(0, 6)}.txt`,
          options.requirements ?? "azure-ml-api-sdk==0.1.0a10\n",
        ),
        condaEnvFile: await blobs.put("conda_dependencies.yml", CONDA_2017),
      },
    },
    assets: [
      {
        id: "driver",
        mimeType: "application/x-python",
        url: await blobs.put(`${randomUUID()}.py`, options.driver ?? file("score_iris.py")),
      },
      await dependency({ "data/labels.txt": file("data/labels.txt") }),
      ...(options.schema === false ? [] : [await dependency({ "outputs/service_schema.json": file("outputs/service_schema.json") })]),
    ],
  });
  expect(manifest.status, manifest.text).toBe(200);
  const image = await api.post(`${A}/images`, {
    computeResourceId: "local",
    manifestId: manifest.body.id,
    name,
    imageType: "Docker",
    description: "",
  });
  expect(image.status, image.text).toBe(202);
  const built = await waitForOperation(api, image.headers.get("operation-location")!);
  expect(built.state, JSON.stringify(built.error)).toBe("Succeeded");
  const imageId = built.resourceLocation.split("/images/")[1]!.split("?")[0]!;
  const started = Date.now();
  const service = await api.post(`${A}/services`, {
    name,
    imageId,
    computeResource: { id: "local", type: "Cluster" },
    numReplicas: 1,
    dataCollection: { storageEnabled: true },
    containerResourceReservation: options.reservation ?? { cpu: 0.1, memory: "1G" },
  });
  expect(service.status, service.text).toBe(202);
  const deployed = await waitForOperation(api, service.headers.get("operation-location")!, 120_000);
  return {
    deployed,
    seconds: (Date.now() - started) / 1000,
    modelId: model.body.id as string,
    imageId,
    buildLog: await (await fetch((await api.get(`${A}/images/${imageId}`)).body.imageBuildLogUri)).text(),
  };
}

async function serviceNamed(name: string) {
  const service = (await api.get(`${A}/services`, { serviceName: name })).body.value[0]!;
  const keys = (await api.get(`${A}/services/${service.id}/keys`)).body;
  return { service, keys };
}

const score = (uri: string, key: string, body: unknown) =>
  fetch(uri, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });

describe("2017 projects, deployed with the 2017 CLI's payloads", () => {
  it("deploys the iris project unchanged and answers as the 2017 service did", async () => {
    const { deployed, modelId, buildLog } = await deployAsThe2017Cli("irisapp");
    expect(deployed.state, JSON.stringify(deployed.error)).toBe("Succeeded");
    expect(buildLog).toContain("schema: outputs/service_schema.json (run() arguments: input_df PANDAS)");
    const { service, keys } = await serviceNamed("irisapp");
    expect(service.containerResourceReservation).toEqual({ cpu: "0.1", memory: "1G" });

    // The tutorial's request: keys in another order than the model's columns.
    const res = await score(service.scoringUri, keys.primaryKey, {
      input_df: [{ "petal width": 0.25, "sepal length": 3.0, "sepal width": 3.6, "petal length": 1.3 }],
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('"\\"Iris-setosa\\""');
    const virginica = await score(service.scoringUri, keys.primaryKey, {
      input_df: [{ "sepal length": 7.7, "sepal width": 3.0, "petal length": 6.1, "petal width": 2.3 }],
    });
    expect(await virginica.json()).toBe('"Iris-virginica"');
    const unknown = await score(service.scoringUri, keys.primaryKey, { input: [] });
    expect(unknown.status).toBe(400);
    expect((await jsonOf<{ error: string }>(unknown)).error).toBe('Unknown argument "input": run() takes input_df.');

    const swagger = (await (await fetch(service.scoringUri.replace(/score$/, "swagger.json"))).json()) as Swagger;
    expect(swagger.definitions.ServiceInput.example).toEqual({
      input_df: [{ "sepal length": 3.0, "sepal width": 3.6, "petal length": 1.3, "petal width": 0.25 }],
    });

    // What the driver collected, in the 2017 layout, as CSV rows with the DataFrame's columns.
    const model = (await api.get(`${A}/models/${modelId}`)).body;
    const base = `00000000-0000-0000-0000-000000000000/local/default/irisapp/${model.id}-model.pkl-${model.version}`;
    const inputs = await waitForBlob(stack.ports.blobPort, "modeldata", `${base}/inputs/${today()}/data.csv`, "7.7,3,6.1,2.3");
    expect(inputs.split("\n")[0]).toBe(["$timestamp", "$request_id", "$correlation_id", ...IRIS_COLUMNS].join(","));
    const row = /\n\d{4}-\d\d-\d\dT[\d:.]+Z,([0-9a-f-]{36}),,3,3\.6,1\.3,0\.25\n/.exec(inputs);
    expect(row, inputs).not.toBeNull();
    // The rows the driver collected and the request they came from share one request id.
    const requests = await waitForBlob(stack.ports.blobPort, "modeldata", `${base}/request/${today()}/data.csv`, row![1]!);
    expect(requests).toContain(`,${row![1]},"{""input_df"":[{""petal width"":0.25`);
    const predictions = await waitForBlob(stack.ports.blobPort, "modeldata", `${base}/prediction/${today()}/data.csv`, "Iris-virginica");
    expect(predictions.split("\n")[0]).toBe("$timestamp,$request_id,$correlation_id,feature_0");
    expect(predictions).toContain(",Iris-setosa\n");

    // The driver's logger and the environment notes are in the service's log.
    const logs = (await api.request("GET", `${A}/services/${service.id}/logs`)).text;
    expect(logs).toContain('[azureml] classes: ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]');
    expect(logs).toContain(
      "[environment] the manifest's conda file is NOT applied: no conda, mamba or micromamba on the local runtime's PATH; the driver runs on /usr/bin/python3",
    );
  });

  it("installs the manifest's pip requirements with the user's pip settings, once per requirements file", async () => {
    const driver = `import json\nimport mm_tiny_wheel\n\ndef init():\n    pass\n\ndef run(raw):\n    return mm_tiny_wheel.greet(json.loads(raw)["name"])\n`;
    const requirements = `${TINY_PACKAGE}\nazure-ml-api-sdk==0.1.0a10\n`;
    const first = await deployAsThe2017Cli("wheels-a", { driver, requirements, schema: false });
    expect(first.deployed.state, JSON.stringify(first.deployed.error)).toBe("Succeeded");
    const second = await deployAsThe2017Cli("wheels-b", { driver, requirements, reservation: { cpu: "250m" }, schema: false });
    expect(second.deployed.state, JSON.stringify(second.deployed.error)).toBe("Succeeded");
    for (const name of ["wheels-a", "wheels-b"]) {
      const { service, keys } = await serviceNamed(name);
      expect(await (await score(service.scoringUri, keys.primaryKey, { name })).json()).toBe(`hello ${name}`);
    }
    // One environment for both (their requirements files are the same, once edited).
    const environments = readdirSync(join(stack.dataDir, "runtime", "environments")).filter((n) => n.startsWith("venv-"));
    expect(environments).toHaveLength(1);
  });

  it("fails fast when init() raises: the rollout ends within seconds with the traceback's last lines", async () => {
    const driver = file("score_iris.py").replace("model = joblib.load('model.pkl')", "model = joblib.load('no-such-model.pkl')");
    const { deployed, seconds } = await deployAsThe2017Cli("broken", { driver });
    expect(deployed.state).toBe("Failed");
    expect(seconds).toBeLessThan(20);
    expect(deployed.error.code).toBe("DeploymentFailed");
    expect(deployed.error.message).toContain("init() failed: FileNotFoundError: [Errno 2] No such file or directory: 'no-such-model.pkl'");
    expect(deployed.error.message).toMatch(/File ".*\/var\/azureml-app\/driver", line \d+, in init/);
    const { service } = await serviceNamed("broken");
    expect(service.state).toBe("Failed");
    // Creating it again with the same name says how to get past the failed one.
    const again = await api.post(`${A}/services`, { name: "broken", imageId: service.imageId, computeResource: { id: "local" } });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(
      `A service named broken already exists in this account, and its deployment failed. Delete it (DELETE services/${service.id}; mm service delete realtime -n broken) and create it again, or deploy a fixed image to it (PUT services/${service.id} with imageId).`,
    );
  });

  it("fails fast when the scoring process itself dies before it ever serves", async () => {
    const driver = `import os\n\ndef init():\n    os._exit(3)\n\ndef run(raw):\n    return raw\n`;
    const { deployed, seconds } = await deployAsThe2017Cli("dying", { driver, schema: false });
    expect(deployed.state).toBe("Failed");
    expect(seconds).toBeLessThan(20);
    expect(deployed.error.message).toMatch(/the scoring server exited \(code 3\), 2 times before it ever became healthy/);
  });

  it("names a module the driver lacks, and how to provide it", async () => {
    const driver = `import mm_tiny_missing\n\ndef init():\n    pass\n\ndef run(raw):\n    return raw\n`;
    const { deployed } = await deployAsThe2017Cli("missing", { driver, schema: false });
    expect(deployed.state).toBe("Failed");
    expect(deployed.error.message).toContain(
      "loading the driver driver failed: ModuleNotFoundError: No module named 'mm_tiny_missing'. The driver needs the Python module 'mm_tiny_missing', which this service's Python (",
    );
    expect(deployed.error.message).toContain(
      "add mm_tiny_missing to the manifest's pip requirements (-p requirements.txt) or conda file (-c)",
    );
  });
});
