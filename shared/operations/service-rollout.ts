import { OperationFailure, type MessageQueue, type OperationKind } from "./operation-kind.js";
import { DeploymentRefused, type ComputeTarget, type RolloutState } from "../compute/compute-target.js";
import type {
  DeploymentDocument,
  ImageDocument,
  ManifestDocument,
  ModelDocument,
  ServiceDocument,
  StoredDocument,
  WithEtag,
} from "../store/documents.js";
import { deploymentSpecOf } from "../services/deployment-spec.js";

/** What a rollout reads, declared here: the Cosmos repositories are one implementation. */
interface ServiceRolloutDeps {
  services: {
    get(pk: string, id: string): Promise<WithEtag<ServiceDocument> | undefined>;
    getDeployment(pk: string, id: string): Promise<WithEtag<DeploymentDocument> | undefined>;
  };
  images: { get(pk: string, id: string): Promise<ImageDocument | undefined> };
  manifests: { get(pk: string, id: string): Promise<ManifestDocument | undefined> };
  models: { get(pk: string, id: string): Promise<ModelDocument | undefined> };
  computeFor(computeResourceId: string): ComputeTarget | undefined;
  /** Opens the service's sealed keys, which the compute target needs. */
  secrets: { open(sealed: string): string };
  /** How long a deployment may take to become healthy before the rollout fails. */
  rolloutTimeoutMs: number;
  queue: MessageQueue;
}

interface RolloutAttempt {
  service: WithEtag<ServiceDocument>;
  deployment: WithEtag<DeploymentDocument>;
}

/** What a rollout that succeeded applies to the service. */
type Applied = Partial<ServiceDocument>;

/** How often a rollout asks its compute target how the deployment is going. */
const POLL_MS = 250;

/**
 * Service rollouts as an operation kind: a deployment goes out on the service's compute target,
 * which keeps the old one serving until the new one is healthy and rolls back when it is not.
 * The rollout ends with the operation: the deployment `Succeeded` and the service on it (the one
 * it replaces expired), or the deployment `Failed` and expired, the service keeping its settings
 * (or `Failed`, when this was its first deployment) and showing the error.
 */
export function serviceRolloutKind(deps: ServiceRolloutDeps): OperationKind<RolloutAttempt, Applied> {
  return {
    type: "Service",
    noun: "deployment",
    queue: deps.queue,
    poisonCode: "DeploymentFailed",

    async load({ operation }) {
      const service = await deps.services.get(operation.pk, operation.resourceId);
      const deployment = operation.deploymentId ? await deps.services.getDeployment(operation.pk, operation.deploymentId) : undefined;
      if (!service || !deployment) throw new OperationFailure("ServiceNotFound", "The service was deleted before its deployment ran.");
      return { service, deployment };
    },

    // The service and deployment keep their states until the rollout ends.
    running: async () => [],

    async work({ service, deployment }, { operation }) {
      const pk = operation.pk;
      const target = deps.computeFor(service.computeResource.id);
      if (!target) throw new OperationFailure("UnknownComputeResource", `No compute target serves "${service.computeResource.id}".`);
      const image = await deps.images.get(pk, deployment.imageId);
      if (!image || image.creationState !== "Succeeded" || !image.digest || !image.imageLocation) {
        throw new OperationFailure("ImageNotReady", `The image ${deployment.imageId} is not a successfully built image.`);
      }
      const manifest = await deps.manifests.get(pk, image.manifestId);
      const models = (await Promise.all((manifest?.modelIds ?? []).map((id) => deps.models.get(pk, id)))).filter(
        (m): m is ModelDocument => m !== undefined,
      );
      const keys = { primary: deps.secrets.open(service.keys.primary), secondary: deps.secrets.open(service.keys.secondary) };
      try {
        await target.deploy(deploymentSpecOf(service, deployment, image, models, keys));
      } catch (err) {
        throw err instanceof DeploymentRefused ? new OperationFailure("DeploymentRefused", err.message) : err;
      }
      const scoringUri = await awaitRollout(target, service.targetName, deployment.id, deps.rolloutTimeoutMs);
      return {
        ...deployment.settings,
        manifestId: image.manifestId,
        manifestName: image.manifestName,
        modelIds: manifest?.modelIds ?? [],
        modelNames: models.map((m) => m.name),
        ...(scoringUri ? { scoringUri } : {}),
      };
    },

    async ended(operation, outcome) {
      const pk = operation.pk;
      const now = operation.endTime!;
      const service = await deps.services.get(pk, operation.resourceId);
      const deployment = operation.deploymentId ? await deps.services.getDeployment(pk, operation.deploymentId) : undefined;
      const docs: WithEtag<StoredDocument>[] = [];
      if (deployment)
        docs.push(deploymentAs(deployment, { status: outcome.state, ...(outcome.state === "Failed" ? { expiredAt: now } : {}) }));
      if (!service) return docs;
      if (outcome.state === "Failed") {
        // A failed update leaves the service on its deployment; a failed first deployment leaves it Failed.
        docs.push(
          serviceAs(service, { state: service.currentDeploymentId ? service.state : "Failed", error: outcome.error, updatedAt: now }),
        );
        return docs;
      }
      const replaced =
        service.currentDeploymentId && service.currentDeploymentId !== deployment?.id
          ? await deps.services.getDeployment(pk, service.currentDeploymentId)
          : undefined;
      if (replaced && !replaced.expiredAt) docs.push(deploymentAs(replaced, { expiredAt: now }));
      const { error: _cleared, ...rest } = service;
      void _cleared;
      docs.push(
        serviceAs(rest, {
          ...outcome.result,
          state: "Succeeded",
          ...(deployment ? { currentDeploymentId: deployment.id } : {}),
          updatedAt: now,
        }),
      );
      return docs;
    },
  };
}

const deploymentAs = (d: WithEtag<DeploymentDocument>, changes: Partial<DeploymentDocument>): WithEtag<DeploymentDocument> => ({
  ...d,
  ...changes,
});
const serviceAs = (s: WithEtag<ServiceDocument>, changes: Partial<ServiceDocument>): WithEtag<ServiceDocument> => ({ ...s, ...changes });

/**
 * How long past its own timeout a rollout still waits for the target's verdict. The target's
 * deadline is the same timeout (AKS: the Deployment's progressDeadlineSeconds), and a deployment
 * controller reports ProgressDeadlineExceeded only at its next sync after it: giving up at the
 * same moment would leave the failing template in place with nobody to roll it back.
 */
export function verdictGraceMs(timeoutMs: number): number {
  return Math.min(60_000, Math.max(2_000, timeoutMs * 0.2));
}

/** Waits for the target to report the deployment rolled out; the scoring URL when it learnt one. */
export async function awaitRollout(
  target: ComputeTarget,
  targetName: string,
  deploymentId: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs + verdictGraceMs(timeoutMs);
  for (;;) {
    const state =
      Date.now() > deadline
        ? await giveUp(target, targetName, deploymentId, timeoutMs)
        : await target.rolloutState(targetName, deploymentId);
    if (state.state === "Succeeded") return state.scoringUri;
    if (state.state === "Failed")
      throw new OperationFailure(
        "DeploymentFailed",
        `The deployment did not become healthy and was rolled back: ${state.error ?? "no reason given"}`,
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The target never gave its verdict: the rollout stops here, and the target goes back to what served. */
async function giveUp(target: ComputeTarget, targetName: string, deploymentId: string, timeoutMs: number): Promise<RolloutState> {
  const why = `the deployment did not become healthy within ${timeoutMs / 1000} s`;
  const state = await target.abandon(targetName, deploymentId, why);
  if (state.state === "Failed")
    throw new OperationFailure("DeploymentTimedOut", `The deployment timed out: ${(state.error ?? why).replace(/\.$/, "")}.`);
  return state;
}
