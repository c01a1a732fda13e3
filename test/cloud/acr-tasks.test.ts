import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobSASPermissions, BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { AcrTasksBuilder } from "../../shared/image-building/acr-tasks-builder.js";
import { LocalOciBuilder } from "../../shared/image-building/local-oci-builder.js";
import { UrlGuard } from "../../shared/image-building/url-guard.js";
import { BuildLog } from "../../shared/image-building/build-log.js";
import { BuildPending } from "../../shared/image-building/build-failure.js";
import type { ImageBuildRequest, ImageBuildResult } from "../../shared/image-building/image-builder.js";
import type { ManifestDocument, ModelDocument } from "../../shared/store/documents.js";
import { startAzuriteBlob, type AzuriteService } from "../support/azurite.js";
import { FakeAcr } from "../support/fake-acr.js";
import { fakeCredential } from "../support/fake-arm.js";
import { PROJECT_ROOT } from "../support/local-stack.js";
import { LINEAR_DRIVER, LINEAR_MODEL } from "../fixtures/drivers.js";

const SUBSCRIPTION = "6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10";
const ACCOUNT = "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml/accounts/team";
let azurite: AzuriteService;
let content: ContainerClient;
let acr: FakeAcr;
let builder: AcrTasksBuilder;
let manifest: ManifestDocument;
let model: ModelDocument;
let builds = 0;

beforeAll(async () => {
  azurite = await startAzuriteBlob();
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  content = blobs.getContainerClient("content");
  await content.createIfNotExists();
  const acrStorage = blobs.getContainerClient("acr-build-sources");
  await acrStorage.createIfNotExists();
  const put = async (name: string, text: string) => {
    await content.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
    return content
      .getBlockBlobClient(name)
      .generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
  };
  const now = new Date().toISOString();
  model = {
    id: "m1",
    pk: ACCOUNT,
    kind: "model",
    name: "linear",
    version: 1,
    mimeType: "application/json",
    url: await put("model.json", LINEAR_MODEL),
    createdAt: now,
  };
  manifest = {
    id: "mf1",
    pk: ACCOUNT,
    kind: "manifest",
    name: "linear",
    version: 1,
    driverProgram: "score.py",
    assets: [{ id: "score.py", url: await put("score.py", LINEAR_DRIVER) }],
    modelIds: ["m1"],
    modelType: "Registered",
    targetRuntime: { runtimeType: "Python", properties: {} },
    webserviceType: "Realtime",
    createdTime: now,
  };
  const credential = fakeCredential({ "https://management.azure.com/.default": "aad-token" });
  acr = new FakeAcr(SUBSCRIPTION, "ml-rg", "mmacr", acrStorage, "aad-token");
  const local = new LocalOciBuilder({
    imagesDir: mkdtempSync(join(tmpdir(), "mm-acr-images-")),
    scoringServerDir: join(PROJECT_ROOT, "scoring"),
    baseImage: "python:3.11-slim",
    python: process.env.PYTHON ?? "python3",
    guard: new UrlGuard([`http://127.0.0.1:${azurite.port}`]),
    downloads: { maxBytes: 1024 ** 3, idleMs: 30_000 },
  });
  builder = new AcrTasksBuilder({
    local,
    registryId: acr.registryId,
    loginServer: acr.loginServer,
    credential,
    armOptions: { httpClient: acr.arm() },
    registryOptions: { httpClient: acr.registry() },
    pollSeconds: 15,
    timeoutSeconds: 2,
  });
});

/**
 * Runs a build as the image-build operation does: every invocation looks once, and while the
 * run goes on the builder says so (BuildPending); the next invocation takes it up from what it left.
 */
async function buildToEnd(req: ImageBuildRequest): Promise<ImageBuildResult> {
  let resumeFrom: Record<string, unknown> | undefined;
  for (let invocation = 0; invocation < 20; invocation++) {
    const outcome = await builder.build({ ...req, ...(resumeFrom ? { resumeFrom } : {}) }).catch((err: unknown) => {
      if (err instanceof BuildPending) return err;
      throw err;
    });
    if (!(outcome instanceof BuildPending)) return outcome;
    resumeFrom = outcome.state;
  }
  throw new Error("the build never ended");
}

afterAll(async () => {
  await azurite?.stop();
});

const request = (log: BuildLog): ImageBuildRequest => ({
  imageId: `img${++builds}`,
  imageName: "linear",
  version: builds,
  accountPath: ACCOUNT,
  accountName: "team",
  partition: ACCOUNT,
  accountCreatedAt: "2026-01-01T00:00:00Z",
  manifest,
  models: [model],
  log,
});

describe("the ACR Tasks image builder, against a fake ACR (ARM and data plane) and a real blob store", () => {
  it("uploads the Dockerfile context, schedules one Docker build run and follows it across invocations, keeps its log, and reads the pushed digest", async () => {
    acr.nextOutcome = "Succeeded";
    const log = new BuildLog();
    const schedules = () => acr.armCalls.filter((c) => c === "POST {registry}/scheduleRun").length;
    const before = schedules();
    // The first invocation schedules the run and returns at once: it does not wait for the build.
    const req = request(log);
    const first = await builder.build(req).catch((err: unknown) => err);
    expect(first).toBeInstanceOf(BuildPending);
    expect((first as BuildPending).afterSeconds).toBe(15);
    const [runId, run] = [...acr.runs].pop()!;
    expect((first as BuildPending).state).toMatchObject({ runId, tag: String(builds), status: "Running" });
    expect(run.request).toMatchObject({
      type: "DockerBuildRequest",
      isPushEnabled: true,
      dockerFilePath: "Dockerfile",
      platform: { os: "Linux", architecture: "amd64" },
      // Never below ACR's minimum of 300 s: the build's own, shorter deadline is the builder's.
      timeout: 300,
    });
    expect(acr.invalidBodies).toEqual([]);

    // Later invocations take the run up again; none schedules another.
    const result = await builder.build({ ...req, resumeFrom: (first as BuildPending).state });
    expect(schedules()).toBe(before + 1);
    expect(run.request.imageNames).toEqual([result.imageLocation.slice("mmacr.azurecr.io/".length)]);
    expect(result.imageLocation).toMatch(/^mmacr\.azurecr\.io\/team-[0-9a-f]+\/linear:\d+$/);
    expect(result.digest).toBe(acr.tags.get(run.request.imageNames![0]!));
    // What ACR received is the local builder's Dockerfile context: the three layers and the Dockerfile.
    expect(run.files!.sort()).toEqual(["Dockerfile", "layer-1-scoring-server.tar.gz", "layer-2-app.tar.gz", "layer-3-models.tar.gz"]);
    expect(run.dockerfile).toContain("FROM python:3.11-slim");
    const text = log.text();
    expect(text).toContain(`ACR Tasks run ${runId}: Running`);
    expect(text.split(`ACR Tasks run ${runId}: Running`)).toHaveLength(2);
    expect(text).toContain(`ACR Tasks run ${runId}: Succeeded`);
    expect(text).toContain(`acr ${runId}| Successfully pushed`);
    expect(acr.armCalls).toEqual(
      expect.arrayContaining([
        "POST {registry}/listBuildSourceUploadUrl",
        "POST {registry}/scheduleRun",
        `POST {registry}/runs/${runId}/listLogSasUrl`,
      ]),
    );
  });

  it("fails at once, saying what to do, when ACR refuses to run builds for the subscription", async () => {
    acr.refuseNextRun = {
      status: 400,
      code: "TasksOperationsNotAllowed",
      message: "ACR Tasks requests for the registry mmacr and 6f1c7a4e-2b1d-4c8e-9a55-3d0f2e7b9c10 are not permitted.",
    };
    const runs = acr.runs.size;
    await expect(builder.build(request(new BuildLog()))).rejects.toMatchObject({
      code: "ImageBuildRefused",
      message: expect.stringMatching(
        /^ACR refused to run the build \(TasksOperationsNotAllowed: ACR Tasks requests for the registry mmacr .* are not permitted\.\)\. ACR Tasks may not run builds in this registry's subscription .*build the image again\.$/,
      ),
    });
    expect(acr.runs.size).toBe(runs);
  });

  it("removes a deleted image's tag, and its manifest once no other tag names it", async () => {
    acr.nextOutcome = "Succeeded";
    const first = request(new BuildLog());
    const second = request(new BuildLog());
    const one = await buildToEnd(first);
    const two = await buildToEnd(second);
    const tagOf = (location: string) => location.slice("mmacr.azurecr.io/".length);
    // Identical inputs make one manifest under two tags, as a real registry stores them.
    acr.tags.set(tagOf(two.imageLocation), one.digest);
    const repository = tagOf(one.imageLocation).split(":")[0]!;
    acr.deletes.length = 0;

    await builder.remove({ ...first, digest: one.digest });
    expect(acr.deletes).toEqual([`_tags ${tagOf(one.imageLocation)}`]);
    expect(acr.tags.has(tagOf(one.imageLocation))).toBe(false);
    expect(acr.tags.get(tagOf(two.imageLocation))).toBe(one.digest);

    await builder.remove({ ...second, digest: one.digest });
    expect(acr.deletes).toEqual([`_tags ${tagOf(one.imageLocation)}`, `manifests ${repository}@${one.digest}`]);
    expect([...acr.tags].filter(([, digest]) => digest === one.digest)).toEqual([]);
    // Removing again finds nothing and is fine.
    await expect(builder.remove({ ...second, digest: one.digest })).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining("already gone")]),
    );
  });

  it("fails the build with the run's own error when the run fails", async () => {
    acr.nextOutcome = "Failed";
    const log = new BuildLog();
    await expect(buildToEnd(request(log))).rejects.toMatchObject({
      code: "ImageBuildFailed",
      message: expect.stringMatching(/^ACR Tasks run cb\d+ ended Failed: failed during run, err: exit status 1\.$/),
    });
    expect(log.text()).toContain("error: the build failed");
  });

  it("cancels a run that outlives the build's deadline and fails the build saying so", async () => {
    acr.nextOutcome = "Never";
    const req = request(new BuildLog());
    const pending = (await builder.build(req).catch((err: unknown) => err)) as BuildPending;
    expect(pending).toBeInstanceOf(BuildPending);
    // The deadline (2 s here) counts from when the run was scheduled, across invocations.
    await new Promise((r) => setTimeout(r, 2100));
    await expect(builder.build({ ...req, resumeFrom: pending.state })).rejects.toMatchObject({
      code: "ImageBuildTimedOut",
      message: expect.stringMatching(/did not finish within 2 s and was cancelled\.$/),
    });
    const [runId, run] = [...acr.runs].pop()!;
    expect(run.status).toBe("Canceled");
    expect(acr.armCalls).toContain(`POST {registry}/runs/${runId}/cancel`);
  });
});
