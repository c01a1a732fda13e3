import { createHash, randomUUID } from "node:crypto";
import type { HttpHandler, HttpRequest } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { nextLink } from "../../shared/http/request.js";
import { DEFAULT_PAGE_SIZE } from "../../shared/schemas/common.js";
import {
  deploymentListQuery,
  regenerateKeyRequest,
  serviceCreateRequest,
  serviceListQuery,
  serviceUpdateRequest,
} from "../../shared/schemas/services.js";
import { deploymentView, serviceView } from "../../shared/views.js";
import { Errors } from "../../shared/errors.js";
import { newServiceKey } from "../../shared/crypto/secret-box.js";
import type {
  DeploymentDocument,
  ImageDocument,
  ManifestDocument,
  ModelDocument,
  OperationDocument,
  ServiceDocument,
  ServiceSettings,
  WithEtag,
} from "../../shared/store/documents.js";
import { Operations } from "../../shared/operations/operations.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import type { ComputeTarget } from "../../shared/compute/compute-target.js";
import type { Page } from "../../shared/store/pagination.js";
import type { ServiceFilters } from "../../shared/schemas/services.js";
import { apiPrefix, apiUrl } from "./api-urls.js";

/** What the service endpoints use; the Cosmos repositories, the operations module and the compute targets are one implementation. */
export interface ServiceEndpointDeps extends EndpointDeps {
  config: { computeTargets: string[] };
  models: { get(pk: string, id: string): Promise<ModelDocument | undefined> };
  manifests: { get(pk: string, id: string): Promise<ManifestDocument | undefined> };
  images: { get(pk: string, id: string): Promise<ImageDocument | undefined> };
  services: {
    /** Creates the service, its name claim, first deployment and operation in one write; false when the name is taken. */
    create(service: ServiceDocument, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean>;
    /** Replaces the service (if unchanged) and creates the update's deployment and operation, in one write. */
    startUpdate(service: WithEtag<ServiceDocument>, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean>;
    get(pk: string, id: string): Promise<WithEtag<ServiceDocument> | undefined>;
    replace(service: WithEtag<ServiceDocument>): Promise<WithEtag<ServiceDocument> | undefined>;
    delete(service: ServiceDocument): Promise<void>;
    list(pk: string, filters: ServiceFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ServiceDocument>>;
    getDeployment(pk: string, id: string): Promise<DeploymentDocument | undefined>;
    listDeployments(pk: string, serviceId: string | undefined): Promise<DeploymentDocument[]>;
  };
  operations: {
    get(pk: string, id: string): Promise<OperationDocument | undefined>;
    enqueue(op: OperationDocument, warn: (message: string) => void): Promise<void>;
  };
  computeFor(computeResourceId: string): ComputeTarget | undefined;
  secrets: { seal(plain: string): string; open(sealed: string): string };
}

type Deps = () => Promise<ServiceEndpointDeps>;

/** The service's name on its compute target: its name and a hash of its account, unique across accounts. */
function targetNameOf(name: string, pk: string): string {
  return `${name}-${createHash("sha256").update(pk).digest("hex").slice(0, 6)}`;
}

async function requireDeployableImage(deps: ServiceEndpointDeps, pk: string, imageId: string) {
  const image = await deps.images.get(pk, imageId);
  if (!image || image.creationState !== "Succeeded") throw Errors.imageNotReady(imageId, image?.creationState);
  return image;
}

/** A rollout of the settings: its deployment, and the operation that rolls it out. */
function newDeploymentAndOperation(
  request: HttpRequest,
  { pk, path }: { pk: string; path: string },
  service: { id: string; name: string },
  settings: ServiceSettings,
  now: string,
) {
  const deployment: DeploymentDocument = {
    id: randomUUID(),
    pk,
    kind: "deployment",
    serviceId: service.id,
    serviceName: service.name,
    imageId: settings.imageId,
    status: "NotStarted",
    createdAt: now,
    settings,
  };
  const operation = Operations.create(
    "Service",
    pk,
    { id: service.id, path: `${apiPrefix(request)}/${path}/services/${service.id}` },
    { deploymentId: deployment.id },
  );
  return { deployment, operation };
}

/** 10 `POST {account}/services`: 409 when the name is taken; 202 with Operation-Location. */
export const makeCreateService = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: serviceCreateRequest,
    run: async ({ request, context, deps, path, pk, body }) => {
      const target = deps.computeFor(body.computeResource.id);
      if (!target) throw Errors.unknownComputeResource(body.computeResource.id, deps.config.computeTargets);
      const image = await requireDeployableImage(deps, pk, body.imageId);
      const now = new Date().toISOString();
      const { name, description: _description, computeResource, ...settings } = body;
      void _description;
      const id = randomUUID();
      const targetName = targetNameOf(name, pk);
      const { deployment, operation } = newDeploymentAndOperation(request, { pk, path }, { id, name }, settings, now);
      const service: ServiceDocument = {
        id,
        pk,
        kind: "service",
        name,
        ...settings,
        computeResource: { id: computeResource.id, type: "Cluster" },
        manifestId: image.manifestId,
        manifestName: image.manifestName,
        modelIds: [],
        modelNames: [],
        createdAt: now,
        updatedAt: now,
        state: "NotStarted",
        keys: { primary: deps.secrets.seal(newServiceKey()), secondary: deps.secrets.seal(newServiceKey()) },
        operationId: operation.id,
        targetName,
        scoringUri: target.scoringUri(targetName),
      };
      if (!(await deps.services.create(service, deployment, operation))) {
        const [existing] = (await deps.services.list(pk, { serviceName: name }, 1, undefined)).items;
        throw Errors.serviceNameConflict(name, existing?.state === "Failed" ? existing.id : undefined);
      }
      await deps.operations.enqueue(operation, (m) => context.warn(m));
      return { status: 202, headers: { "operation-location": apiUrl(request, `${path}/operations/${operation.id}`) } };
    },
  });

/** 11 `GET {account}/services`, with every filter. */
export const makeListServices = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    query: serviceListQuery,
    run: async ({ request, deps, pk, query }) => {
      const { count, $skipToken, ...filters } = query;
      const page = await deps.services.list(pk, filters, count ?? DEFAULT_PAGE_SIZE, $skipToken);
      const views = await Promise.all(page.items.map((s) => expand(deps, pk, s)));
      const link = nextLink(request, page.nextSkipToken);
      return json(200, { value: views, ...(link ? { nextLink: link } : {}) });
    },
  });

async function expand(deps: ServiceEndpointDeps, pk: string, s: ServiceDocument) {
  const image = await deps.images.get(pk, s.imageId);
  const manifest = image ? await deps.manifests.get(pk, image.manifestId) : undefined;
  const models = (await Promise.all((manifest?.modelIds ?? []).map((id) => deps.models.get(pk, id)))).filter(
    (m): m is ModelDocument => m !== undefined,
  );
  return serviceView(s, image, manifest, models);
}

async function requireService(deps: ServiceEndpointDeps, pk: string, id: string) {
  const service = await deps.services.get(pk, id);
  if (!service) throw Errors.serviceNotFound(id);
  return service;
}

/** 12 `GET {account}/services/{id}`: ServiceResponse. */
export const makeGetService = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => json(200, await expand(deps, pk, await requireService(deps, pk, request.params.id ?? ""))),
  });

/** 13 `PUT {account}/services/{id}`: a new deployment with the given fields, the others kept; 202. */
export const makeUpdateService = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: serviceUpdateRequest,
    run: async ({ request, context, deps, path, pk, body }) => {
      const service = await requireService(deps, pk, request.params.id ?? "");
      const op = await deps.operations.get(pk, service.operationId);
      if (op && (op.state === "NotStarted" || op.state === "Running")) throw Errors.serviceBusy(service.name);
      if (body.imageId !== undefined) await requireDeployableImage(deps, pk, body.imageId);
      const current: ServiceSettings = {
        imageId: service.imageId,
        numReplicas: service.numReplicas,
        autoScaler: service.autoScaler,
        containerResourceReservation: service.containerResourceReservation,
        dataCollection: service.dataCollection,
        appInsightsEnabled: service.appInsightsEnabled,
        maxConcurrentRequestsPerContainer: service.maxConcurrentRequestsPerContainer,
        batching: service.batching,
      };
      const given = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<ServiceSettings>;
      const settings: ServiceSettings = { ...current, ...given };
      // Turning the autoscaler on drops a fixed replica count; a fixed count turns it off.
      if (given.autoScaler?.autoscaleEnabled) delete settings.numReplicas;
      if (given.numReplicas !== undefined && !given.autoScaler)
        settings.autoScaler = settings.autoScaler ? { ...settings.autoScaler, autoscaleEnabled: false } : undefined;
      const now = new Date().toISOString();
      const { deployment, operation } = newDeploymentAndOperation(request, { pk, path }, service, settings, now);
      if (!(await deps.services.startUpdate({ ...service, operationId: operation.id, updatedAt: now }, deployment, operation)))
        throw Errors.serviceBusy(service.name);
      await deps.operations.enqueue(operation, (m) => context.warn(m));
      return { status: 202, headers: { "operation-location": apiUrl(request, `${path}/operations/${operation.id}`) } };
    },
  });

/** 14 `DELETE {account}/services/{id}`: what runs it stops first; 200, or 204 when there is no such service. */
export const makeDeleteService = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const service = await deps.services.get(pk, id);
      if (!service) return { status: 204 };
      await deps.computeFor(service.computeResource.id)?.delete(service.targetName);
      await deps.services.delete(service);
      return { status: 200 };
    },
  });

/** 15 `GET {account}/services/{id}/keys`: AuthKeys (Contributors and Owners). */
export const makeGetServiceKeys = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, deps, pk }) => {
      const service = await requireService(deps, pk, request.params.id ?? "");
      return json(200, { primaryKey: deps.secrets.open(service.keys.primary), secondaryKey: deps.secrets.open(service.keys.secondary) });
    },
  });

/**
 * 16 `POST {account}/services/{id}/keys` (and `…/regenerateKeys`, which the 2017 CLI called):
 * replaces the named key; the old value stops working at once, with no restart.
 */
export const makeRegenerateServiceKey = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: regenerateKeyRequest,
    run: async ({ request, deps, pk, body }) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const service = await requireService(deps, pk, request.params.id ?? "");
        const fresh = newServiceKey();
        const keys =
          body.keyType === "Primary"
            ? { ...service.keys, primary: deps.secrets.seal(fresh) }
            : { ...service.keys, secondary: deps.secrets.seal(fresh) };
        const saved = await deps.services.replace({ ...service, keys, updatedAt: new Date().toISOString() });
        if (!saved) continue;
        const plain = { primary: deps.secrets.open(keys.primary), secondary: deps.secrets.open(keys.secondary) };
        if (service.currentDeploymentId || service.state !== "NotStarted")
          await deps.computeFor(service.computeResource.id)?.updateKeys(service.targetName, plain);
        return json(200, { primaryKey: plain.primary, secondaryKey: plain.secondary });
      }
      throw Errors.tooMuchContention("the service's keys");
    },
  });

/** 17 `GET {account}/deployments` (filter `serviceId`): a plain array, newest first. */
export const makeListDeployments = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    query: deploymentListQuery,
    run: async ({ deps, pk, query }) => json(200, (await deps.services.listDeployments(pk, query.serviceId)).map(deploymentView)),
  });

/** 18 `GET {account}/deployments/{id}`. */
export const makeGetDeployment = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const deployment = await deps.services.getDeployment(pk, id);
      if (!deployment) throw Errors.deploymentNotFound(id);
      return json(200, deploymentView(deployment));
    },
  });

/**
 * `GET {account}/services/{id}/logs?tail=N`: the last lines each replica printed (what
 * `az ml service logs realtime` showed). Not in the 2017 API reference; the CLI needs it.
 */
export const makeGetServiceLogs = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    run: async ({ request, deps, pk }) => {
      const service = await requireService(deps, pk, request.params.id ?? "");
      const tail = Math.min(5000, Math.max(1, Number(request.query.get("tail") ?? 200) || 200));
      const text = (await deps.computeFor(service.computeResource.id)?.logs(service.targetName, tail)) ?? "";
      return { status: 200, body: text, headers: { "content-type": "text/plain; charset=utf-8" } };
    },
  });
