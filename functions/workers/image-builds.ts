import type { InvocationContext } from "@azure/functions";
import { imageBuildMessage } from "../../shared/schemas/images.js";
import { failImageBuild, runImageBuild } from "../../shared/operations/image-build-runner.js";
import type { AppDeps } from "../composition-root.js";

/** Queue trigger on the image-build queue: runs the build. */
export const makeImageBuildWorker = (getDeps: () => Promise<AppDeps>) => async (message: unknown, context: InvocationContext): Promise<void> => {
  const parsed = imageBuildMessage.safeParse(message);
  if (!parsed.success) {
    // Nothing can ever make this message work: say so and let it go.
    context.error(`Dropped a message that is not an image build request: ${parsed.error.message}`);
    return;
  }
  const deps = await getDeps();
  await runImageBuild(
    {
      container: deps.container,
      images: deps.images,
      operations: deps.operations,
      manifests: deps.manifests,
      models: deps.models,
      builderFor: deps.builderFor,
      logs: deps.buildLogs,
      heartbeatMs: deps.config.operations.heartbeatMs,
      warn: (m) => context.warn(m),
    },
    parsed.data,
  );
};

/** Queue trigger on `<image-build queue>-poison`: a build that failed every attempt ends Failed, saying why. */
export const makeImageBuildPoisonHandler = (getDeps: () => Promise<AppDeps>) => async (message: unknown, context: InvocationContext): Promise<void> => {
  const parsed = imageBuildMessage.safeParse(message);
  if (!parsed.success) {
    context.error(`Dropped a poison message that is not an image build request: ${parsed.error.message}`);
    return;
  }
  const deps = await getDeps();
  const op = await deps.operations.get(parsed.data.accountPath, parsed.data.operationId);
  await failImageBuild(deps, parsed.data.accountPath, parsed.data.operationId, {
    code: "ImageBuildFailed",
    message: `The image build failed on every attempt${op?.lastAttemptError ? `; the last one: ${op.lastAttemptError}` : ""}.`,
    statusCode: 500,
  });
};
