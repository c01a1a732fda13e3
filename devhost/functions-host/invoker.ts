import { randomUUID } from "node:crypto";
import type { FunctionRegistry, RegisteredFunction } from "./core-api.js";
import type { CoreInvocationContext, RpcInvocationResponse, RpcLogLevel, RpcTypedData } from "./core-types.js";

interface InvocationInput {
  /** The trigger's data, passed under the trigger binding's name. */
  triggerData: RpcTypedData;
  triggerMetadata?: Record<string, RpcTypedData>;
}

type InvocationOutcome =
  { ok: true; response: RpcInvocationResponse; invocationId: string } | { ok: false; error: unknown; invocationId: string };

/**
 * Runs one invocation the way the Node worker does (InvocationHandler.ts):
 * getInvocationModel → getArguments → preInvocation hooks → invokeFunction →
 * postInvocation hooks → getResponse, or the error thrown by the handler or a hook.
 */
export async function invokeFunction(
  registry: FunctionRegistry,
  fn: RegisteredFunction,
  input: InvocationInput,
): Promise<InvocationOutcome> {
  const model = registry.programmingModel;
  const invocationId = randomUUID();
  if (!model) return { ok: false, error: new Error("The app registered no programming model."), invocationId };
  const name = fn.metadata.name;
  const coreCtx: CoreInvocationContext = {
    invocationId,
    request: {
      invocationId,
      functionId: name,
      inputData: [{ name: fn.trigger.name, data: input.triggerData }],
      triggerMetadata: input.triggerMetadata ?? {},
    },
    metadata: fn.metadata,
    state: "invocation",
    log: (level: RpcLogLevel, category: string, msg: string) => registry.log(level, `${category}:${name}`, msg),
  };
  try {
    const invocationModel = model.getInvocationModel(coreCtx);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre = { hookData, invocationContext: context, inputs, functionCallback: fn.callback };
    coreCtx.state = "preInvocationHooks";
    for (const hook of registry.hooksOf("preInvocation")) await hook(pre);
    coreCtx.state = "invocation";
    let result: unknown;
    let error: unknown;
    try {
      result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (err) {
      error = err;
    }
    const post = { hookData, invocationContext: context, inputs: pre.inputs, result, error };
    coreCtx.state = "postInvocationHooks";
    for (const hook of registry.hooksOf("postInvocation")) await hook(post);
    if (post.error !== undefined && post.error !== null) return { ok: false, error: post.error, invocationId };
    const response = await invocationModel.getResponse(context, post.result);
    return { ok: true, response, invocationId };
  } catch (err) {
    return { ok: false, error: err, invocationId };
  }
}
