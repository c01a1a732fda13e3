import type { FunctionRegistry } from "./core-api.js";
import { invokeFunction } from "./invoker.js";
import { describe } from "./http-triggers.js";

interface WebhookAnswer {
  status: number;
  body?: unknown;
}

/**
 * `POST /runtime/webhooks/eventgrid?functionName=NAME`, as the host's Event Grid extension
 * answers it: the subscription validation handshake, Unsubscribe, and Notification delivery
 * (one invocation per event; 202 when all succeed, 500 when any fails so Event Grid retries).
 */
export async function handleEventGridWebhook(
  registry: FunctionRegistry,
  url: URL,
  eventType: string | undefined,
  body: Buffer,
): Promise<WebhookAnswer> {
  const name = url.searchParams.get("functionName") ?? "";
  const fn = [...registry.functions.values()].find(
    (f) => f.metadata.name.toLowerCase() === name.toLowerCase() && f.trigger.type.toLowerCase() === "eventgridtrigger",
  );
  if (!fn) return { status: 404, body: { error: `No Event Grid function named "${name}".` } };
  if (!eventType) return { status: 400, body: { error: "The aeg-event-type header is required." } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return { status: 400, body: { error: "The request body is not JSON." } };
  }
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  switch (eventType) {
    case "SubscriptionValidation": {
      const data = events[0]?.data as { validationCode?: unknown } | undefined;
      if (typeof data?.validationCode !== "string") return { status: 400, body: { error: "No validationCode in the event." } };
      return { status: 200, body: { validationResponse: data.validationCode } };
    }
    case "Unsubscribe":
      return { status: 202 };
    case "Notification": {
      let failed = false;
      for (const event of events) {
        const outcome = await invokeFunction(registry, fn, { triggerData: { json: JSON.stringify(event) } });
        if (!outcome.ok) {
          failed = true;
          registry.log(
            "error",
            `system:${fn.metadata.name}`,
            `Executed '${fn.metadata.name}' (Failed, Id=${outcome.invocationId}): ${describe(outcome.error)}`,
          );
        }
      }
      return { status: failed ? 500 : 202 };
    }
    default:
      return { status: 400, body: { error: `Unknown aeg-event-type "${eventType}".` } };
  }
}
