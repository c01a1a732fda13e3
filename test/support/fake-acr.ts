import { createHash, randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { Readable } from "node:stream";
import { BlobSASPermissions, type ContainerClient } from "@azure/storage-blob";
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import tarStream from "tar-stream";
import * as Mappers from "../../node_modules/@azure/arm-containerregistry/dist/esm/models/mappers.js";
import { invalidContent } from "./sdk-shape.js";

/**
 * A FAKE Azure Container Registry with ACR Tasks, in two parts, as the real one has: its ARM
 * surface (build source upload URL, scheduleRun, runs, run logs, cancel, importImage) for
 * @azure/arm-containerregistry, every scheduleRun body held to that SDK's own model of it
 * (RunRequest: required fields, enums, the run timeout's bounds), and its data plane (the AAD → ACR token exchange and the
 * /acr/v1 tag and manifest reads) for @azure/container-registry. Response bodies follow the
 * documented shapes. Uploads go to a real blob store (Azurite) through a SAS URL, as they go to
 * ACR's own storage; a "run" reads the uploaded context back, checks it is a Docker build
 * context, and "pushes" a digest.
 */
export class FakeAcr {
  readonly runs = new Map<
    string,
    {
      status: string;
      request: { imageNames?: string[] } & Record<string, unknown>;
      runErrorMessage?: string;
      polls: number;
      files?: string[];
      dockerfile?: string;
    }
  >();
  readonly tags = new Map<string, string>();
  readonly armCalls: string[] = [];
  /** Deletes the data plane received: `_tags <repo>:<tag>` or `manifests <repo>@<digest>`. */
  readonly deletes: string[] = [];
  /** What the next run ends as. */
  nextOutcome: "Succeeded" | "Failed" | "Never" = "Succeeded";
  /** An error ARM answers the next scheduleRun with (as it does for a subscription that may not run ACR Tasks). */
  refuseNextRun: { status: number; code: string; message: string } | undefined;
  /** The images imported into the registry (importImage bodies). */
  readonly imports: unknown[] = [];
  /** What scheduleRun and importImage bodies broke of the SDK's models, if anything. */
  readonly invalidBodies: string[] = [];
  #uploads = new Map<string, string>();

  constructor(
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly name: string,
    private readonly uploads: ContainerClient,
    private readonly aadToken: string,
  ) {}

  get loginServer(): string {
    return `${this.name}.azurecr.io`;
  }

  get registryId(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${this.name}`;
  }

  /** The ARM side, as an HttpClient for ContainerRegistryManagementClient. */
  arm(): HttpClient {
    const base = `${this.registryId}`;
    return {
      sendRequest: async (request: PipelineRequest): Promise<PipelineResponse> => {
        const url = new URL(request.url);
        const path = url.pathname;
        this.armCalls.push(`${request.method} ${path.replace(base, "{registry}")}`);
        if (request.headers.get("authorization") !== `Bearer ${this.aadToken}`)
          return json(request, 401, { error: { code: "AuthenticationFailed", message: "Authentication failed." } });
        if (request.method === "POST" && path === `${base}/listBuildSourceUploadUrl`) {
          const relativePath = `source/${new Date().toISOString().slice(0, 10).replace(/-/g, "")}/${randomUUID()}.tar.gz`;
          const blob = this.uploads.getBlockBlobClient(relativePath);
          const uploadUrl = await blob.generateSasUrl({
            permissions: BlobSASPermissions.parse("cw"),
            expiresOn: new Date(Date.now() + 3600_000),
          });
          this.#uploads.set(relativePath, relativePath);
          return json(request, 200, { uploadUrl, relativePath });
        }
        if (request.method === "POST" && path === `${base}/importImage`) {
          const body = JSON.parse(String(request.body)) as unknown;
          const invalid = invalidContent(Mappers.ImportImageParameters, Mappers, body, this.invalidBodies);
          if (invalid) return json(request, 400, invalid);
          this.imports.push(body);
          return json(request, 200, {});
        }
        if (request.method === "POST" && path === `${base}/scheduleRun`) {
          const body = JSON.parse(String(request.body));
          const invalid = invalidContent(Mappers.RunRequest, Mappers, body, this.invalidBodies);
          if (invalid) return json(request, 400, invalid);
          const refusal = this.refuseNextRun;
          this.refuseNextRun = undefined;
          if (refusal) return json(request, refusal.status, { error: { code: refusal.code, message: refusal.message, target: "request" } });
          if (body.type !== "DockerBuildRequest")
            return json(request, 400, { error: { code: "InvalidRequest", message: "Only Docker builds here." } });
          if (!this.#uploads.has(body.sourceLocation))
            return json(request, 400, {
              error: { code: "InvalidSource", message: `The source location ${body.sourceLocation} was not uploaded.` },
            });
          const runId = `cb${this.runs.size + 1}`;
          const run = { status: "Queued", request: body, polls: 0 } as ReturnType<FakeAcr["runs"]["get"]> & object;
          const context = await this.#readContext(body.sourceLocation);
          run.files = context.files;
          run.dockerfile = context.dockerfile;
          this.runs.set(runId, run);
          return json(request, 200, this.#runResource(runId));
        }
        const runPath = new RegExp(`^${escape(base)}/runs/([^/]+)(/listLogSasUrl|/cancel)?$`).exec(path);
        if (runPath && this.runs.has(runPath[1]!)) {
          const runId = runPath[1]!;
          const run = this.runs.get(runId)!;
          if (request.method === "GET" && !runPath[2]) {
            // Queued → Running → the outcome, one step a poll.
            run.polls++;
            if (run.status === "Queued") run.status = "Running";
            else if (run.status === "Running" && this.nextOutcome !== "Never") this.#finish(runId);
            return json(request, 200, this.#runResource(runId));
          }
          if (request.method === "POST" && runPath[2] === "/listLogSasUrl") {
            const logBlob = this.uploads.getBlockBlobClient(`logs/${runId}.log`);
            const text = `2026/11/27 00:00:00 Downloading source code...\n2026/11/27 00:00:01 Using acb_vol for the build\nStep 1/9 : ${run.dockerfile?.split("\n").find((l) => l.startsWith("FROM")) ?? ""}\n${run.status === "Succeeded" ? "Successfully pushed" : "error: the build failed"}\n`;
            await logBlob.upload(text, Buffer.byteLength(text));
            return json(request, 200, {
              logLink: await logBlob.generateSasUrl({
                permissions: BlobSASPermissions.parse("r"),
                expiresOn: new Date(Date.now() + 3600_000),
              }),
            });
          }
          if (request.method === "POST" && runPath[2] === "/cancel") {
            run.status = "Canceled";
            return json(request, 200, {});
          }
        }
        return json(request, 404, {
          error: { code: "ResourceNotFound", message: `${request.method} ${path} is not served by the fake ACR.` },
        });
      },
    };
  }

  /** The data plane, as an HttpClient for ContainerRegistryClient: token exchange, tags and manifests. */
  registry(): HttpClient {
    // ACR's tokens are JWTs; the client reads the refresh token's expiry from it.
    const refresh = fakeJwt({ sub: "fake", exp: Math.floor(Date.now() / 1000) + 3 * 3600, grant_type: "refresh_token" });
    const access = fakeJwt({ sub: "fake", exp: Math.floor(Date.now() / 1000) + 3600, access: [] });
    return {
      sendRequest: async (request: PipelineRequest): Promise<PipelineResponse> => {
        const url = new URL(request.url);
        if (url.host !== this.loginServer) return json(request, 404, {});
        const form = new URLSearchParams(typeof request.body === "string" ? request.body : "");
        if (request.method === "POST" && url.pathname === "/oauth2/exchange") {
          if (
            form.get("grant_type") !== "access_token" ||
            form.get("access_token") !== this.aadToken ||
            form.get("service") !== this.loginServer
          )
            return json(request, 401, { errors: [{ code: "UNAUTHORIZED" }] });
          return json(request, 200, { refresh_token: refresh });
        }
        if (request.method === "POST" && url.pathname === "/oauth2/token") {
          if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== refresh)
            return json(request, 401, { errors: [{ code: "UNAUTHORIZED" }] });
          return json(request, 200, { access_token: access });
        }
        const m =
          /^\/acr\/v1\/(.+)\/(_tags|_manifests)\/([^/]+)$/.exec(url.pathname) ?? /^\/v2\/(.+)\/(manifests)\/([^/]+)$/.exec(url.pathname);
        if (!m) return json(request, 404, { errors: [{ code: "NAME_UNKNOWN" }] });
        const [, encodedRepository, what, encodedReference] = m;
        const repository = decodeURIComponent(encodedRepository!);
        const reference = decodeURIComponent(encodedReference!);
        if (request.headers.get("authorization") !== `Bearer ${access}`) {
          return {
            request,
            status: 401,
            headers: createHttpHeaders({
              "www-authenticate": `Bearer realm="https://${this.loginServer}/oauth2/token",service="${this.loginServer}",scope="repository:${repository}:metadata_read"`,
              "content-type": "application/json",
            }),
            bodyAsText: JSON.stringify({ errors: [{ code: "UNAUTHORIZED" }] }),
          };
        }
        if (request.method === "DELETE") {
          this.deletes.push(what === "_tags" ? `_tags ${repository}:${reference}` : `manifests ${repository}@${reference}`);
          // ACR answers 202 to both: a tag goes alone, a manifest (by digest) with every tag naming it.
          const doomed = [...this.tags].filter(([k, d]) =>
            what === "_tags" ? k === `${repository}:${reference}` : k.startsWith(`${repository}:`) && d === reference,
          );
          if (doomed.length === 0) return json(request, 404, { errors: [{ code: what === "_tags" ? "TAG_UNKNOWN" : "MANIFEST_UNKNOWN" }] });
          for (const [k] of doomed) this.tags.delete(k);
          return json(request, 202, {});
        }
        if (what === "manifests") return json(request, 404, { errors: [{ code: "UNSUPPORTED" }] });
        const now = new Date().toISOString();
        const attributes = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };
        if (what === "_tags") {
          const digest = this.tags.get(`${repository}:${reference}`);
          if (!digest) return json(request, 404, { errors: [{ code: "TAG_UNKNOWN", message: "the specified tag does not exist" }] });
          return json(request, 200, {
            registry: this.loginServer,
            imageName: repository,
            tag: { name: reference, digest, createdTime: now, lastUpdateTime: now, signed: false, changeableAttributes: attributes },
          });
        }
        const tags = [...this.tags]
          .filter(([k, d]) => k.startsWith(`${repository}:`) && d === reference)
          .map(([k]) => k.slice(repository!.length + 1));
        if (tags.length === 0) return json(request, 404, { errors: [{ code: "MANIFEST_UNKNOWN" }] });
        return json(request, 200, {
          registry: this.loginServer,
          imageName: repository,
          manifest: {
            digest: reference,
            imageSize: 1024,
            createdTime: now,
            lastUpdateTime: now,
            architecture: "amd64",
            os: "linux",
            mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            tags,
            changeableAttributes: attributes,
          },
        });
      },
    };
  }

  #finish(runId: string): void {
    const run = this.runs.get(runId)!;
    if (this.nextOutcome === "Failed") {
      run.status = "Failed";
      run.runErrorMessage = "failed during run, err: exit status 1";
      return;
    }
    run.status = "Succeeded";
    for (const name of run.request.imageNames as string[])
      this.tags.set(name, `sha256:${createHash("sha256").update(`${runId}:${name}`).digest("hex")}`);
  }

  #runResource(runId: string) {
    const run = this.runs.get(runId)!;
    const outputImages =
      run.status === "Succeeded"
        ? (run.request.imageNames as string[]).map((n) => ({
            registry: this.loginServer,
            repository: n.split(":")[0],
            tag: n.split(":")[1],
            digest: this.tags.get(n),
          }))
        : undefined;
    return {
      id: `${this.registryId}/runs/${runId}`,
      name: runId,
      type: "Microsoft.ContainerRegistry/registries/runs",
      properties: {
        runId,
        status: run.status,
        runType: "QuickRun",
        platform: { os: "linux", architecture: "amd64" },
        provisioningState: "Succeeded",
        createTime: new Date().toISOString(),
        ...(outputImages ? { outputImages } : {}),
        ...(run.runErrorMessage ? { runErrorMessage: run.runErrorMessage } : {}),
      },
    };
  }

  async #readContext(relativePath: string): Promise<{ files: string[]; dockerfile: string }> {
    const archive = gunzipSync(await this.uploads.getBlockBlobClient(relativePath).downloadToBuffer());
    const extract = tarStream.extract();
    const files: string[] = [];
    let dockerfile = "";
    extract.on("entry", (header, stream, next) => {
      files.push(header.name);
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        if (header.name === "Dockerfile") dockerfile = Buffer.concat(chunks).toString("utf8");
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      extract.on("finish", resolve);
      extract.on("error", reject);
      Readable.from([archive]).pipe(extract as unknown as NodeJS.WritableStream);
    });
    return { files, dockerfile };
  }
}

function json(request: PipelineRequest, status: number, body: unknown): PipelineResponse {
  return {
    request,
    status,
    headers: createHttpHeaders({ "content-type": "application/json", "x-ms-request-id": randomUUID() }),
    bodyAsText: JSON.stringify(body),
  };
}

/** An unsigned JWT-shaped token (the fake's tokens are only compared, never verified). */
function fakeJwt(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.fake`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
