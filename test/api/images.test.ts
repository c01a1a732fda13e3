import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../devhost/ports.js";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, DEFAULT_ACCOUNT, manifestBody, readAllPages, tokensFor, waitForOperation } from "../support/api-client.js";
import { contextDirOf, startLocalStack, type LocalStack } from "../support/local-stack.js";
import { startRegistry, type LocalRegistry } from "../support/registry.js";
import { TestBlobs } from "../support/blobs.js";
import { requireTool } from "../support/tools.js";
import { BROKEN_DRIVER, LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";
import { run, tarOf, zipOf } from "../fixtures/archives.js";

let registry: LocalRegistry;
let stack: LocalStack;
let api: ApiClient;
let blobs: TestBlobs;
const A = DEFAULT_ACCOUNT;

beforeAll(async () => {
  requireTool("skopeo", "skopeo");
  requireTool("umoci", "umoci");
  registry = await startRegistry();
  stack = await startLocalStack({ env: { IMAGE_REGISTRY: registry.host, IMAGE_REGISTRY_PLAIN_HTTP: "true" } });
  api = new ApiClient(stack.apiBaseUrl, await (await tokensFor(stack.dataDir))());
  blobs = new TestBlobs(stack.ports.blobPort);
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
});

async function registerModel(name: string, url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post(`${A}/models`, { name, mimeType: "application/json", url, ...extra });
  expect(res.status, res.text).toBe(200);
  return res.body.id;
}

/** A manifest with the linear driver and model, plus whatever assets and models are given. */
async function linearManifest(
  name: string,
  extra: { assets?: object[]; modelIds?: string[]; properties?: Record<string, string>; driver?: string } = {},
): Promise<string> {
  const modelId = await registerModel(`${name}-model`, await blobs.put(`${name}/model.json`, LINEAR_MODEL));
  const res = await api.post(`${A}/manifests`, {
    ...manifestBody(name, [modelId, ...(extra.modelIds ?? [])]),
    assets: [
      { id: "score.py", mimeType: "text/x-python", url: await blobs.put(`${name}/score.py`, extra.driver ?? LINEAR_DRIVER) },
      ...(extra.assets ?? []),
    ],
    targetRuntime: { runtimeType: "Python", properties: extra.properties ?? {} },
  });
  expect(res.status, res.text).toBe(200);
  return res.body.id;
}

async function createImage(manifestId: string, name = `img-${randomUUID().slice(0, 8)}`) {
  const res = await api.post(`${A}/images`, {
    name,
    imageType: "Docker",
    computeResourceId: "local",
    manifestId,
    description: "test image",
  });
  expect(res.status, res.text).toBe(202);
  expect(res.text).toBe("");
  const location = res.headers.get("operation-location")!;
  const operation = await waitForOperation(api, location);
  const image = (await api.request("GET", operation.resourceLocation, { apiVersion: null })).body;
  return { location, operation, image, name };
}

function ociRef(image: { id: string }): string {
  // The layout and ref are what imageLocation names when there is no registry; with one, the layout holds the same ref.
  const layout = join(stack.dataDir, "images", "oci");
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
  const refs = index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]!);
  const ref = refs.find((r) => r.endsWith(`/${(image as { name?: string }).name}:${(image as { version?: number }).version}`));
  if (!ref) throw new Error(`no ref for image ${image.id} in ${refs.join(", ")}`);
  return `oci:${layout}:${ref}`;
}

describe("image builds", () => {
  it("answers 202 with Operation-Location, then the operation goes to Succeeded with the image, its location and its log", async () => {
    const manifestId = await linearManifest("happy");
    const { location, operation, image, name } = await createImage(manifestId);
    expect(location).toMatch(new RegExp(`^${stack.apiBaseUrl}/${A}/operations/[0-9a-f-]{36}\\?api-version=2017-09-01-preview$`));
    expect(operation).toMatchObject({ operationType: "Image", state: "Succeeded" });
    expect(Date.parse(operation.endTime)).toBeGreaterThanOrEqual(Date.parse(operation.createdTime));
    expect(operation.resourceLocation).toContain(`/images/${image.id}`);
    expect(image).toMatchObject({
      name,
      version: 1,
      imageType: "Docker",
      computeResourceId: "local",
      creationState: "Succeeded",
      description: "test image",
    });
    expect(image.imageLocation).toBe(`${registry.host}/${image.imageLocation.split("/").slice(1).join("/")}`);
    expect(image.imageLocation).toMatch(new RegExp(`/${name}:1$`));
    expect(image.manifest).toMatchObject({ id: manifestId, name: "happy", driverProgram: "score.py" });
    const log = await fetch(image.imageBuildLogUri);
    expect(log.status).toBe(200);
    const text = await log.text();
    for (const step of ["asset score.py", "check driver score.py compiles", "layer 1/3", "layer 3/3", "push to"])
      expect(text).toContain(step);
    expect(text).not.toContain("sig=");
  });

  it("writes a standard OCI image that umoci and skopeo accept, with everything where its config says, and pushes the same digest", async () => {
    const manifestId = await linearManifest("oci", { assets: [{ id: "labels.txt", url: await blobs.put("oci/labels.txt", "a,b,c") }] });
    const { image } = await createImage(manifestId);
    const ref = ociRef(image);
    const local = JSON.parse(run("skopeo", ["inspect", ref]));
    expect(local.Labels).toMatchObject({ "azureml.manifest.id": manifestId, "org.opencontainers.image.base.name": "python:3.11-slim" });
    expect(local.Env).toEqual(expect.arrayContaining(["AML_APP_ROOT=/var/azureml-app", "AML_DRIVER=score.py", "AML_PORT=5001"]));
    const remote = JSON.parse(run("skopeo", ["inspect", "--tls-verify=false", `docker://${image.imageLocation}`]));
    expect(remote.Digest).toBe(local.Digest);

    const bundle = join(mkdtempSync(join(tmpdir(), "mm-umoci-")), "bundle");
    run("umoci", ["unpack", "--rootless", "--image", ref.slice("oci:".length), bundle]);
    const rootfs = join(bundle, "rootfs");
    const runtime = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    expect(runtime.process.args).toEqual(["python3", "/var/azureml-server/server.py"]);
    expect(runtime.process.cwd).toBe("/var/azureml-app");
    expect(readFileSync(join(rootfs, "var/azureml-server/server.py"), "utf8")).toContain("def main()");
    expect(readFileSync(join(rootfs, "var/azureml-app/score.py"), "utf8")).toBe(LINEAR_DRIVER);
    expect(readFileSync(join(rootfs, "var/azureml-app/labels.txt"), "utf8")).toBe("a,b,c");
    expect(readFileSync(join(rootfs, "var/azureml-app/model.json"), "utf8")).toBe(LINEAR_MODEL);
    expect(existsSync(join(rootfs, "var/azureml-app/__pycache__"))).toBe(false);

    // The unpacked image scores: its own server, its own driver, its own model.
    const port = await freePort();
    const { spawn } = await import("node:child_process");
    const server = spawn("python3", [join(rootfs, "var/azureml-server/server.py")], {
      env: {
        ...process.env,
        AML_APP_ROOT: join(rootfs, "var/azureml-app"),
        AML_DRIVER: "score.py",
        AML_HOST: "127.0.0.1",
        AML_PORT: String(port),
      },
      stdio: "ignore",
    });
    try {
      let res: Response | undefined;
      for (let i = 0; i < 100; i++) {
        res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        if (res?.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(res?.status).toBe(200);
      const scored = await fetch(`http://127.0.0.1:${port}/score`, {
        method: "POST",
        body: JSON.stringify({
          data: [
            [1, 1, 1],
            [1, 0, 2],
          ],
        }),
      });
      expect(await scored.json()).toEqual([6, 7]);
    } finally {
      server.kill();
    }
  });

  it("is reproducible: two builds of one manifest give byte-identical layers and one digest", async () => {
    const manifestId = await linearManifest("repro");
    const first = await createImage(manifestId, "repro");
    const second = await createImage(manifestId, "repro");
    expect([first.image.version, second.image.version]).toEqual([1, 2]);
    const a = JSON.parse(run("skopeo", ["inspect", ociRef(first.image)]));
    const b = JSON.parse(run("skopeo", ["inspect", ociRef(second.image)]));
    expect(b.Digest).toBe(a.Digest);
    expect(b.Layers).toEqual(a.Layers);
  });

  it("unpacks tar.gz and zip assets and models into the app directory", async () => {
    const archive = await tarOf({ "lib/helpers.py": "X = 1\n", "data/table.csv": "a,b\n" }, { gzip: true });
    const zipped = await zipOf({ "weights/extra.json": "{}", "vocab.txt": "hello" });
    const zipModel = await registerModel("zipped", await blobs.put("unpack/model.zip", zipped), { unpack: true });
    const manifestId = await linearManifest("unpack", {
      assets: [{ id: "lib.tar.gz", unpack: true, url: await blobs.put("unpack/lib.tar.gz", archive) }],
      modelIds: [zipModel],
    });
    const { image } = await createImage(manifestId);
    expect(image.creationState).toBe("Succeeded");
    const bundle = join(mkdtempSync(join(tmpdir(), "mm-umoci-")), "bundle");
    run("umoci", ["unpack", "--rootless", "--image", ociRef(image).slice("oci:".length), bundle]);
    const app = join(bundle, "rootfs", "var", "azureml-app");
    expect(readFileSync(join(app, "lib/helpers.py"), "utf8")).toBe("X = 1\n");
    expect(readFileSync(join(app, "data/table.csv"), "utf8")).toBe("a,b\n");
    expect(readFileSync(join(app, "weights/extra.json"), "utf8")).toBe("{}");
    expect(readFileSync(join(app, "vocab.txt"), "utf8")).toBe("hello");
    expect(existsSync(join(app, "lib.tar.gz"))).toBe(false);
  });

  it("keeps a Dockerfile build context beside the image, installing the manifest's pip requirements", async () => {
    const manifestId = await linearManifest("context", {
      assets: [{ id: "requirements.txt", url: await blobs.put("context/requirements.txt", "numpy\n") }],
      properties: { pipRequirements: "requirements.txt" },
    });
    const { image, operation } = await createImage(manifestId);
    expect(operation.state, JSON.stringify(operation.error)).toBe("Succeeded");
    const dir = contextDirOf(stack.dataDir, image.id)!;
    const dockerfile = readFileSync(join(dir, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM python:3\.11-slim$/m);
    expect(dockerfile).toContain("RUN python3 -m pip install --no-cache-dir -r /var/azureml-env/requirements.txt");
    expect(dockerfile).not.toContain("conda");
    expect(dockerfile).toContain('ENV AML_PIP_REQUIREMENTS="/var/azureml-env/requirements.txt"');
    expect(dockerfile).toContain('ENTRYPOINT ["python3", "/var/azureml-server/server.py"]');
    for (const layer of ["layer-1-scoring-server.tar.gz", "layer-2-app.tar.gz", "layer-3-models.tar.gz"])
      expect(existsSync(join(dir, layer)), layer).toBe(true);
  });

  it("takes pip and conda files given as URLs (as the 2017 CLI sent them), and comments out what the image already has", async () => {
    const conda =
      "name: env\ndependencies:\n  - python=3.5.2\n  - scikit-learn\n  - pip:\n    - azure-ml-api-sdk==0.1.0a10\n    - azureml.datacollector==0.1.0a13\n    - requests\n";
    const manifestId = await linearManifest("env-urls", {
      properties: {
        pipRequirements: await blobs.put("env-urls/requirementsX1.txt", "requests==2.31.0\nazure-ml-api-sdk==0.1.0a11\n"),
        condaEnvFile: await blobs.put("env-urls/conda_dependencies.yml", conda),
      },
    });
    const { image, operation } = await createImage(manifestId);
    expect(operation.state, JSON.stringify(operation.error)).toBe("Succeeded");
    const dockerfile = readFileSync(join(contextDirOf(stack.dataDir, image.id)!, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM mcr\.microsoft\.com\/azureml\/openmpi4\.1\.0-ubuntu22\.04$/m);
    expect(dockerfile).toContain("RUN conda env update --name base --file /var/azureml-env/conda_dependencies.yml");
    const bundle = join(mkdtempSync(join(tmpdir(), "mm-umoci-")), "bundle");
    run("umoci", ["unpack", "--rootless", "--image", ociRef(image).slice("oci:".length), bundle]);
    const env = join(bundle, "rootfs", "var", "azureml-env");
    expect(readFileSync(join(env, "requirements.txt"), "utf8")).toBe(
      "requests==2.31.0\n# provided by the service: azure-ml-api-sdk==0.1.0a11\n",
    );
    const editedConda = readFileSync(join(env, "conda_dependencies.yml"), "utf8");
    expect(editedConda).toContain("  # - python=3.5.2 (older than the scoring server needs)\n  - scikit-learn\n");
    expect(editedConda).toContain(
      "    # provided by the service: azure-ml-api-sdk==0.1.0a10\n    # provided by the service: azureml.datacollector==0.1.0a13\n    - requests\n",
    );
    const config = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    expect(config.process.env).toEqual(
      expect.arrayContaining([
        "AML_PIP_REQUIREMENTS=/var/azureml-env/requirements.txt",
        "AML_CONDA_FILE=/var/azureml-env/conda_dependencies.yml",
      ]),
    );
    // The build log says what was changed and where the files take effect; the SAS-free URL only.
    const log = await (await fetch(image.imageBuildLogUri)).text();
    expect(log).toContain('condaEnvFile: "- azure-ml-api-sdk==0.1.0a10" commented out');
    expect(log).toMatch(
      /conda file: \/var\/azureml-env\/conda_dependencies\.yml is NOT applied on the local runtime: there is no conda, mamba or micromamba on its PATH, so drivers run on \S+ \(PYTHON\)/,
    );
    expect(log).toContain(
      "pip requirements: /var/azureml-env/requirements.txt; the local runtime installs them into a virtual environment",
    );
  });

  it("refuses pip and conda properties that are neither asset ids nor URLs, without echoing a query", async () => {
    const modelId = await registerModel("env-bad-model", await blobs.put("env-bad/model.json", LINEAR_MODEL));
    const res = await api.post(`${A}/manifests`, {
      ...manifestBody("env-bad", [modelId]),
      targetRuntime: { runtimeType: "Python", properties: { condaEnvFile: "ftp://host/env.yml?sig=SECRET" } },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("RuntimeFileNotFound");
    expect(res.body.message).toBe(
      'targetRuntime.properties.condaEnvFile "ftp://host/env.yml" must be the id of one of the manifest\'s assets, or an http(s) URL of the file.',
    );
    expect(res.text).not.toContain("SECRET");
  });
});

describe("image lists and lookups", () => {
  it("filters by manifestId and manifestName across pages and embeds each manifest", async () => {
    const m1 = await linearManifest("list-one");
    const m2 = await linearManifest("list-two");
    for (let i = 0; i < 3; i++) await createImage(m1, "listed");
    await createImage(m2, "listed");
    const byId = await readAllPages(api, `${A}/images`, { manifestId: m1, count: "1" });
    expect(byId.items).toHaveLength(3);
    expect(byId.pages).toBe(3);
    expect(byId.items.every((i) => i.manifest.id === m1)).toBe(true);
    const byName = await readAllPages(api, `${A}/images`, { manifestName: "list-two" });
    expect(byName.items.map((i) => i.manifest.id)).toEqual([m2]);
    expect(byName.items[0]!.version).toBe(4);
  });

  it("reuses the models layer of an earlier build for the same models and content, and never once a model blob is written again", async () => {
    // Random weights: they do not compress, so the models layer is a plain tar.
    const first = randomBytes(3 << 20);
    const modelId = await registerModel("cached-weights", await blobs.put("cached/weights.bin", first), {
      mimeType: "application/octet-stream",
    });
    const manifest = async () => {
      const res = await api.post(`${A}/manifests`, {
        ...manifestBody("cached", [modelId]),
        assets: [{ id: "score.py", mimeType: "text/x-python", url: await blobs.put("cached/score.py", LINEAR_DRIVER) }],
        targetRuntime: { runtimeType: "Python", properties: {} },
      });
      expect(res.status, res.text).toBe(200);
      return res.body.id as string;
    };
    const logOf = async (image: { imageBuildLogUri: string }) => (await fetch(image.imageBuildLogUri)).text();
    const modelsLayerOf = (image: { id: string }) => JSON.parse(run("skopeo", ["inspect", "--raw", ociRef(image)])).layers[2];

    const one = await createImage(await manifest());
    expect(await logOf(one.image)).toMatch(/layer 3\/3: models: done in \d+ ms, 3\.0 MiB, uncompressed/);
    expect(modelsLayerOf(one.image)).toMatchObject({ mediaType: "application/vnd.oci.image.layer.v1.tar" });

    // A new manifest version with the same model: the layer is reused, the model not fetched again.
    const two = await createImage(await manifest());
    const secondLog = await logOf(two.image);
    expect(secondLog).toContain("layer 3/3: models: reused, the same models with the same content");
    expect(secondLog).not.toContain("model cached-weights v1: streamed");
    expect(modelsLayerOf(two.image)).toEqual(modelsLayerOf(one.image));

    // The same model's blob written again (a new ETag): built from the new bytes.
    const rewritten = randomBytes(3 << 20);
    await blobs.put("cached/weights.bin", rewritten);
    const three = await createImage(await manifest());
    expect(await logOf(three.image)).not.toContain("reused");
    expect(modelsLayerOf(three.image).digest).not.toBe(modelsLayerOf(one.image).digest);
    const bundle = join(mkdtempSync(join(tmpdir(), "mm-umoci-")), "bundle");
    run("umoci", ["unpack", "--rootless", "--image", ociRef(three.image).slice("oci:".length), bundle]);
    expect(readFileSync(join(bundle, "rootfs", "var", "azureml-app", "weights.bin")).equals(rewritten)).toBe(true);
  });

  it("refuses bad requests with 400s that name the problem, writing nothing", async () => {
    const manifestId = await linearManifest("bad-requests");
    const before = (await readAllPages(api, `${A}/images`, { count: "1000" })).items.length;
    const cases: [object, string][] = [
      [{ name: "x", imageType: "Docker", computeResourceId: "local", manifestId: randomUUID() }, "ManifestNotFound"],
      [{ name: "x", imageType: "Docker", computeResourceId: "/subscriptions/x/aks/nope", manifestId }, "UnknownComputeResource"],
      [{ name: "x", imageType: "Rocket", computeResourceId: "local", manifestId }, "InvalidRequestBody"],
      [{ name: "Not A Name", imageType: "Docker", computeResourceId: "local", manifestId }, "InvalidRequestBody"],
      [{ imageType: "Docker" }, "InvalidRequestBody"],
    ];
    for (const [body, code] of cases) {
      const res = await api.post(`${A}/images`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(code);
    }
    expect((await readAllPages(api, `${A}/images`, { count: "1000" })).items).toHaveLength(before);
    expect((await api.get(`${A}/images/${randomUUID()}`)).body.code).toBe("ImageNotFound");
    expect((await api.get(`${A}/operations/${randomUUID()}`)).body.code).toBe("OperationNotFound");
  });
});

describe("image build faults", () => {
  async function expectFailure(manifestId: string, code: string, ...mentions: string[]) {
    const { operation, image } = await createImage(manifestId);
    expect(operation.state).toBe("Failed");
    expect(operation.error.code).toBe(code);
    for (const m of mentions) expect(operation.error.message).toContain(m);
    expect(image.creationState).toBe("Failed");
    expect(image.error).toEqual(operation.error);
    expect(operation.error.message).not.toContain("sig=");
    return operation.error.message as string;
  }

  it("fails naming the asset and URL when an asset is missing", async () => {
    const url = (await blobs.sasUrl("never/uploaded.txt")) as string;
    const manifestId = await linearManifest("missing", { assets: [{ id: "data.txt", url }] });
    await expectFailure(manifestId, "ContentUnavailable", "asset data.txt", "never/uploaded.txt", "404");
  });

  it("refuses URLs outside the allow-list and private addresses", async () => {
    const outside = await linearManifest("outside", { assets: [{ id: "x.txt", url: "https://example.com/x.txt" }] });
    await expectFailure(outside, "UrlRefused", "https://example.com/x.txt", "allow-list");
    const metadata = await linearManifest("metadata", { assets: [{ id: "y.txt", url: "http://169.254.169.254/latest/meta-data" }] });
    await expectFailure(metadata, "UrlRefused", "169.254.169.254");
  });

  it("fails on a bad archive: not an archive, or an entry escaping its directory", async () => {
    const notArchive = await linearManifest("not-archive", {
      assets: [{ id: "a.tgz", unpack: true, url: await blobs.put("bad/a.tgz", "plain text") }],
    });
    await expectFailure(notArchive, "BadArchive", "asset a.tgz", "not a tar, tar.gz or zip");
    const escaping = await tarOf({ "../../etc/evil.sh": "echo" }, { gzip: true });
    const traversal = await linearManifest("traversal", {
      assets: [{ id: "b.tgz", unpack: true, url: await blobs.put("bad/b.tgz", escaping) }],
    });
    await expectFailure(traversal, "BadArchive", "asset b.tgz", "../../etc/evil.sh");
    const linked = await tarOf({}, { gzip: true, extra: (p) => p.entry({ name: "link", type: "symlink", linkname: "/etc/passwd" }) });
    const symlink = await linearManifest("symlink", { assets: [{ id: "c.tgz", unpack: true, url: await blobs.put("bad/c.tgz", linked) }] });
    await expectFailure(symlink, "BadArchive", "asset c.tgz", "symlink");
  });

  it("fails naming the driver and the line when the driver does not compile", async () => {
    const manifestId = await linearManifest("broken", { driver: BROKEN_DRIVER });
    await expectFailure(manifestId, "DriverDoesNotCompile", "score.py", "line 4");
  });
});
