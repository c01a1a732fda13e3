import type { InvocationContext } from "@azure/functions";
import { sweepOperations, workMessageOf } from "../../shared/operations/operation-sweeper.js";
import { failImageBuild } from "../../shared/operations/image-build-runner.js";
import { failServiceRollout } from "../../shared/operations/service-rollout-runner.js";
import type { AppDeps } from "../composition-root.js";

/** Timer: takes up operations whose worker stopped (crash, lost message) and fails those past their deadline. */
export const makeOperationSweeper = (getDeps: () => Promise<AppDeps>) => async (_timer: unknown, context: InvocationContext): Promise<void> => {
  const deps = await getDeps();
  const result = await sweepOperations({
    operations: deps.operations,
    stallMs: deps.config.operations.stallMs,
    deadlineMs: deps.config.operations.deadlineMs,
    requeue: (op) => (op.operationType === "Service" ? deps.serviceRolloutQueue : deps.imageBuildQueue).send(workMessageOf(op)),
    fail: (op, error) => (op.operationType === "Service" ? failServiceRollout(deps, op.pk, op.id, error) : failImageBuild(deps, op.pk, op.id, error)),
  });
  if (result.requeued || result.failed) context.log(`Operation sweep: ${result.requeued} taken up again, ${result.failed} failed past their deadline.`);
};
