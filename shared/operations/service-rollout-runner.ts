import type { Container } from "@azure/cosmos";
import { heartbeat, isTerminal, recordAttemptError } from "./operation-progress.js";
import { DeploymentRefused, type ComputeTarget, type DeploymentSpec } from "../compute/compute-target.js";
import type { SecretBox } from "../crypto/secret-box.js";
import { replaceTogether, type Versioned } from "../store/batch-replace.js";
import type { DeploymentDocument, ErrorResponseBody, ModelDocument, OperationDocument, ServiceDocument, StoredDocument } from "../store/documents.js";
import type { ImageRepository } from "../store/image-repository.js";
import type { ManifestRepository } from "../store/manifest-repository.js";
import type { ModelRepository } from "../store/model-repository.js";
import type { OperationRepository } from "../store/operation-repository.js";
import type { ServiceRepository } from "../store/service-repository.js";
import type { ServiceRolloutMessage } from "../schemas/services.js";
import { deploymentSpecOf } from "../services/deployment-spec.js";

export interface RolloutDeps {
  container: Container;
  services: ServiceRepository;
  images: ImageRepository;
  manifests: ManifestRepository;
  models: ModelRepository;
  operations: OperationRepository;
  computeFor(computeResourceId: string): ComputeTarget | undefined;
  secrets: SecretBox;
  heartbeatMs: number;
  rolloutTimeoutMs: number;
  warn(message: string): void;
}

/** A rollout that cannot succeed as asked; the operation ends Failed with this message. */
export class RolloutFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}


/**
 * Rolls a service's deployment out on its compute target and waits for the outcome. The target
 * keeps the old deployment serving until the new one is healthy, and rolls back when it is not:
 * then the operation ends Failed saying why, and the service keeps its settings. Idempotent: a
 * finished operation is left alone, and deploying the same deployment again changes nothing.
 */
export async function runServiceRollout(deps: RolloutDeps, message: ServiceRolloutMessage): Promise<void> {
  const pk = message.accountPath;
  const op = await deps.operations.get(pk, message.operationId);
  if (!op || isTerminal(op.state)) return;
  const service = await deps.services.get(pk, op.resourceId);
  const deployment = op.deploymentId ? await deps.services.getDeployment(pk, op.deploymentId) : undefined;
  if (!service || !deployment) {
    await deps.operations.replace({ ...op, state: "Failed", endTime: new Date().toISOString(), error: { code: "ServiceNotFound", message: "The service was deleted before its deployment ran." } });
    return;
  }
  await deps.operations.replace({ ...op, state: "Running", heartbeatAt: new Date().toISOString(), attempts: (op.attempts ?? 0) + 1 });
  const beating = setInterval(() => void heartbeat(deps.operations, pk, op.id, deps.warn), deps.heartbeatMs);
  try {
    const target = deps.computeFor(service.computeResource.id);
    if (!target) throw new RolloutFailure("UnknownComputeResource", `No compute target serves "${service.computeResource.id}".`);
    const image = await deps.images.get(pk, deployment.imageId);
    if (!image || image.creationState !== "Succeeded" || !image.digest || !image.imageLocation) {
      throw new RolloutFailure("ImageNotReady", `The image ${deployment.imageId} is not a successfully built image.`);
    }
    const manifest = await deps.manifests.get(pk, image.manifestId);
    const models = (await Promise.all((manifest?.modelIds ?? []).map((id) => deps.models.get(pk, id)))).filter((m): m is ModelDocument => m !== undefined);
    const spec: DeploymentSpec = deploymentSpecOf(service, deployment, image, models, { primary: deps.secrets.open(service.keys.primary), secondary: deps.secrets.open(service.keys.secondary) });
    try {
      await target.deploy(spec);
    } catch (err) {
      if (err instanceof DeploymentRefused) throw new RolloutFailure("DeploymentRefused", err.message);
      throw err;
    }
    const deadline = Date.now() + deps.rolloutTimeoutMs;
    let scoringUri: string | undefined;
    for (;;) {
      const state = await target.rolloutState(service.targetName, deployment.id);
      if (state.state === "Succeeded") {
        scoringUri = state.scoringUri;
        break;
      }
      if (state.state === "Failed") throw new RolloutFailure("DeploymentFailed", `The deployment did not become healthy and was rolled back: ${state.error ?? "no reason given"}`);
      if (Date.now() > deadline) throw new RolloutFailure("DeploymentTimedOut", `The deployment did not become healthy within ${deps.rolloutTimeoutMs / 1000} s.`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await finish(deps, pk, op.id, service.id, deployment.id, {
      state: "Succeeded",
      applied: {
        ...deployment.settings,
        manifestId: image.manifestId,
        manifestName: image.manifestName,
        modelIds: manifest?.modelIds ?? [],
        modelNames: models.map((m) => m.name),
        ...(scoringUri ? { scoringUri } : {}),
      },
    });
  } catch (err) {
    if (!(err instanceof RolloutFailure)) {
      await recordAttemptError(deps.operations, pk, op.id, err);
      throw err;
    }
    await finish(deps, pk, op.id, service.id, deployment.id, { state: "Failed", error: { code: err.code, message: err.message, statusCode: 400 } });
  } finally {
    clearInterval(beating);
  }
}

type Outcome = { state: "Succeeded"; applied: Partial<ServiceDocument> } | { state: "Failed"; error: ErrorResponseBody };

/** Ends the rollout: operation, deployment, service (and the deployment it replaces) in one batch. */
async function finish(deps: RolloutDeps, pk: string, operationId: string, serviceId: string, deploymentId: string, outcome: Outcome): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const op = await deps.operations.get(pk, operationId);
    if (!op || isTerminal(op.state)) return;
    const now = new Date().toISOString();
    const service = await deps.services.get(pk, serviceId);
    const deployment = await deps.services.getDeployment(pk, deploymentId);
    const docs: Versioned<StoredDocument>[] = [];
    const endedOp: Versioned<OperationDocument> = { ...op, state: outcome.state, endTime: now, ...(outcome.state === "Failed" ? { error: outcome.error } : {}) };
    docs.push(endedOp);
    if (deployment) {
      const ended: Versioned<DeploymentDocument> = { ...deployment, status: outcome.state, ...(outcome.state === "Failed" ? { expiredAt: now } : {}) };
      docs.push(ended);
    }
    if (service) {
      if (outcome.state === "Succeeded") {
        const previous = service.currentDeploymentId && service.currentDeploymentId !== deploymentId ? await deps.services.getDeployment(pk, service.currentDeploymentId) : undefined;
        if (previous && !previous.expiredAt) docs.push({ ...previous, expiredAt: now } as Versioned<DeploymentDocument>);
        const { error: _dropped, ...rest } = service;
        void _dropped;
        docs.push({ ...rest, ...outcome.applied, state: "Succeeded", currentDeploymentId: deploymentId, updatedAt: now } as Versioned<ServiceDocument>);
      } else {
        // A failed update leaves the service on its deployment; a failed first deployment leaves it Failed.
        docs.push({ ...service, state: service.currentDeploymentId ? service.state : "Failed", error: outcome.error, updatedAt: now } as Versioned<ServiceDocument>);
      }
    }
    if (await replaceTogether(deps.container, pk, docs)) return;
  }
  throw new Error(`Operation ${operationId} kept changing while it was being finished.`);
}



/** Ends a service operation Failed (poison, deadline), leaving the service on its deployment. */
export async function failServiceRollout(deps: Pick<RolloutDeps, "container" | "services" | "operations">, pk: string, operationId: string, error: ErrorResponseBody): Promise<void> {
  const op = await deps.operations.get(pk, operationId);
  if (!op || isTerminal(op.state)) return;
  await finish(deps as RolloutDeps, pk, operationId, op.resourceId, op.deploymentId ?? "", { state: "Failed", error });
}
