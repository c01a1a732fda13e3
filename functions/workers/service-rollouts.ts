import type { InvocationContext } from "@azure/functions";
import { serviceRolloutMessage } from "../../shared/schemas/services.js";
import { failServiceRollout, runServiceRollout } from "../../shared/operations/service-rollout-runner.js";
import type { AppDeps } from "../composition-root.js";

/** Queue trigger on the rollout queue: rolls a service's deployment out on its compute target. */
export const makeServiceRolloutWorker = (getDeps: () => Promise<AppDeps>) => async (message: unknown, context: InvocationContext): Promise<void> => {
  const parsed = serviceRolloutMessage.safeParse(message);
  if (!parsed.success) {
    context.error(`Dropped a message that is not a rollout request: ${parsed.error.message}`);
    return;
  }
  const deps = await getDeps();
  await runServiceRollout(
    {
      container: deps.container,
      services: deps.services,
      images: deps.images,
      manifests: deps.manifests,
      models: deps.models,
      operations: deps.operations,
      computeFor: deps.computeFor,
      secrets: deps.secrets,
      heartbeatMs: deps.config.operations.heartbeatMs,
      rolloutTimeoutMs: deps.config.rolloutTimeoutMs,
      warn: (m) => context.warn(m),
    },
    parsed.data,
  );
};

/** Queue trigger on `<rollout queue>-poison`: a rollout that failed every attempt ends Failed. */
export const makeServiceRolloutPoisonHandler = (getDeps: () => Promise<AppDeps>) => async (message: unknown, context: InvocationContext): Promise<void> => {
  const parsed = serviceRolloutMessage.safeParse(message);
  if (!parsed.success) {
    context.error(`Dropped a poison message that is not a rollout request: ${parsed.error.message}`);
    return;
  }
  const deps = await getDeps();
  const op = await deps.operations.get(parsed.data.accountPath, parsed.data.operationId);
  await failServiceRollout(deps, parsed.data.accountPath, parsed.data.operationId, {
    code: "DeploymentFailed",
    message: `The deployment failed on every attempt${op?.lastAttemptError ? `; the last one: ${op.lastAttemptError}` : ""}.`,
    statusCode: 500,
  });
};
