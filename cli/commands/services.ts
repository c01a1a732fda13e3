import { Command, InvalidArgumentError } from "commander";
import { shellQuote } from "../invocation.js";
import { contextOf, type Context } from "../context.js";
import { CliError, EXIT } from "../errors.js";
import { addManifestFileOptions } from "./manifests.js";
import { createImage, type ImageFlags } from "./images.js";
import { addWaitOptions, settle, type WaitFlags } from "./operations.js";
import { DEPLOYMENT_VIEW, SERVICE_VIEW } from "./views.js";
import { collect, nonNegativeInt, percent, positiveInt } from "./options.js";

interface Service {
  id: string;
  name: string;
  state: string;
  scoringUri?: string;
  imageId: string;
}

/** The 2017 service settings flags, shared by create and update. */
interface SettingsFlags {
  imageId?: string;
  autoscaleEnabled?: boolean;
  autoscaleMinReplicas?: number;
  autoscaleMaxReplicas?: number;
  autoscaleRefreshPeriodSeconds?: number;
  autoscaleTargetUtilization?: number;
  collectModelData?: boolean;
  cpu?: string;
  memory?: string;
  enableAppInsights?: boolean;
  replicaMaxConcurrentRequests?: number;
  numReplicas?: number;
  batchMaxSize?: number;
  batchMaxWaitMs?: number;
}

function bool(value: string | undefined): boolean {
  if (value === undefined || /^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new InvalidArgumentError("must be true or false.");
}

function addSettingsOptions(command: Command): Command {
  return command
    .option("--image-id <id>", "the image to run")
    .option("--autoscale-enabled [bool]", "scale replicas with load (true/false)", bool)
    .option("--autoscale-min-replicas <n>", "the fewest replicas when autoscaling", nonNegativeInt)
    .option("--autoscale-max-replicas <n>", "the most replicas when autoscaling", positiveInt)
    .option("--autoscale-refresh-period-seconds <n>", "how often the autoscaler looks", positiveInt)
    .option("--autoscale-target-utilization <percent>", "the utilisation the autoscaler aims at", percent)
    .option("--collect-model-data [bool]", "store inputs and predictions in blob storage (true/false)", bool)
    .option("--cpu <quantity>", "CPU reserved per replica, e.g. 0.5 or 500m")
    .option("--memory <quantity>", "memory reserved per replica, e.g. 512Mi or 2G")
    .option("-l, --enable-app-insights [bool]", "send telemetry to Application Insights (true/false)", bool)
    .option("--replica-max-concurrent-requests <n>", "requests in flight per replica before queueing", positiveInt)
    .option("-z, --num-replicas <n>", "how many replicas (not with autoscaling)", nonNegativeInt)
    .option(
      "--batch-max-size <n>",
      "batch up to n concurrent requests into one call of the driver's run_batch(inputs) (1: no batching)",
      positiveInt,
    )
    .option("--batch-max-wait-ms <ms>", "how long a request waits for others to batch with (default 10)", nonNegativeInt);
}

/** The request fields the flags set; fields not given are left out (update keeps their value). */
function settingsBody(f: SettingsFlags): Record<string, unknown> {
  const autoscale = [
    f.autoscaleEnabled,
    f.autoscaleMinReplicas,
    f.autoscaleMaxReplicas,
    f.autoscaleRefreshPeriodSeconds,
    f.autoscaleTargetUtilization,
  ].some((v) => v !== undefined);
  const reservation = f.cpu !== undefined || f.memory !== undefined;
  return {
    ...(f.imageId ? { imageId: f.imageId } : {}),
    ...(f.numReplicas !== undefined ? { numReplicas: f.numReplicas } : {}),
    ...(autoscale
      ? {
          autoScaler: {
            autoscaleEnabled: f.autoscaleEnabled ?? true,
            ...(f.autoscaleMinReplicas !== undefined ? { minReplicas: f.autoscaleMinReplicas } : {}),
            ...(f.autoscaleMaxReplicas !== undefined ? { maxReplicas: f.autoscaleMaxReplicas } : {}),
            ...(f.autoscaleRefreshPeriodSeconds !== undefined ? { refreshPeriodInSeconds: f.autoscaleRefreshPeriodSeconds } : {}),
            ...(f.autoscaleTargetUtilization !== undefined ? { targetUtilization: f.autoscaleTargetUtilization } : {}),
          },
        }
      : {}),
    ...(reservation
      ? { containerResourceReservation: { ...(f.cpu ? { cpu: f.cpu } : {}), ...(f.memory ? { memory: f.memory } : {}) } }
      : {}),
    ...(f.collectModelData !== undefined ? { dataCollection: { storageEnabled: f.collectModelData } } : {}),
    ...(f.enableAppInsights !== undefined ? { appInsightsEnabled: f.enableAppInsights } : {}),
    ...(f.replicaMaxConcurrentRequests !== undefined ? { maxConcurrentRequestsPerContainer: f.replicaMaxConcurrentRequests } : {}),
    ...batchingBody(f),
  };
}

function batchingBody(f: SettingsFlags): Record<string, unknown> {
  if (f.batchMaxSize === undefined) {
    if (f.batchMaxWaitMs !== undefined) throw new CliError("--batch-max-wait-ms goes with --batch-max-size (give both).", 2);
    return {};
  }
  return {
    batching: { maxBatchSize: f.batchMaxSize, ...(f.batchMaxWaitMs !== undefined ? { maxWaitInMilliseconds: f.batchMaxWaitMs } : {}) },
  };
}

/** `-i` takes a service's id or its name. */
async function resolveService(ctx: Context, idOrName: string): Promise<Service> {
  const direct = await ctx.api.call<Service>("GET", `services/${encodeURIComponent(idOrName)}`, { allow: [404] });
  if (direct.status !== 404) return direct.body;
  const [byName] = await ctx.api.list<Service>("services", { serviceName: idOrName }, 1);
  if (!byName) throw new CliError(`There is no service with the id or name "${idOrName}" in ${ctx.accountPath}.`, 1, "ServiceNotFound");
  return byName;
}

/** `-i <id or name>` or `-n <name>` (2017 took either): the service they name. */
async function namedService(ctx: Context, opts: ServiceRef, command: Command): Promise<Service> {
  const ref = opts.id ?? opts.name;
  if (!ref) command.error("error: name the service: -i <id or name> or -n <name>", { exitCode: EXIT.usage });
  return resolveService(ctx, ref);
}

interface ServiceRef {
  id?: string;
  name?: string;
}

function addServiceRef(command: Command): Command {
  return command.option("-i, --id <id>", "the service's id or name").option("-n, --name <name>", "the service's name");
}

const swaggerUriOf = (scoringUri: string) => scoringUri.replace(/\/score$/, "/swagger.json");

/**
 * The example input of a service's Swagger (`definitions.ServiceInput.example`, from the schema
 * it was deployed with), or undefined when it has none or cannot be read.
 */
async function exampleInput(service: Service): Promise<unknown> {
  if (!service.scoringUri) return undefined;
  try {
    const res = await fetch(swaggerUriOf(service.scoringUri), { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const swagger = (await res.json()) as { definitions?: { ServiceInput?: { example?: unknown } } };
    return swagger.definitions?.ServiceInput?.example;
  } catch {
    return undefined;
  }
}

function usageText(ctx: Context, service: Service, example: unknown): string {
  const uri = service.scoringUri ?? "(no scoring URL yet)";
  const swagger = service.scoringUri ? swaggerUriOf(service.scoringUri) : "(none yet)";
  const account = ctx.accountPath;
  const input = example === undefined ? "'<input json>'" : shellQuote(JSON.stringify(example));
  return [
    `Scoring URL:  ${uri}`,
    `Headers:      Content-Type: application/json`,
    `              Authorization: Bearer <key>   (${ctx.invocation} service keys realtime -i ${service.name})`,
    `Swagger:      ${swagger}`,
    ...(example === undefined ? [] : [`Sample input: ${JSON.stringify(example)}   (the schema's example)`]),
    `Sample curl:`,
    `  curl -X POST '${uri}' -H 'Content-Type: application/json' \\`,
    `    -H "Authorization: Bearer $(${ctx.invocation} service keys realtime -i ${service.id} --account ${account} --query primaryKey -o tsv)" \\`,
    `    -d ${input}`,
    `Or:           ${ctx.invocation} service run realtime -i ${service.name}${example === undefined ? " -d '<input json>'" : ""}`,
  ].join("\n");
}

/**
 * Running a failed `service create` again replaces the service it left behind: a service whose
 * first deployment failed never served, so nothing is lost. A service that serves is never
 * replaced (its name answers 409, saying to update it instead).
 */
async function replaceFailedService(ctx: Context, name: string): Promise<void> {
  const [existing] = await ctx.api.list<Service & { error?: { message?: string } }>("services", { serviceName: name }, 1);
  if (!existing || existing.state !== "Failed") return;
  ctx.note(
    `Service ${name} exists from an earlier attempt whose deployment failed${existing.error?.message ? ` (${existing.error.message.split("\n")[0]})` : ""}: replacing it.`,
  );
  await ctx.api.call("DELETE", `services/${existing.id}`);
}

/** `mm service <verb> realtime …`: the 2017 shape, where `realtime` was the service type. */
function realtime(parent: Command, verb: string, description: string): Command {
  return parent.command(verb).description(description).command("realtime").description(description);
}

export function serviceCommand(): Command {
  const service = new Command("service").description("Deploy images as real-time scoring web services");

  addWaitOptions(
    addSettingsOptions(
      addManifestFileOptions(
        realtime(
          service,
          "create",
          "Create a real-time service from an image (--image-id), or from files: -m model.pkl -f score.py -r python",
        )
          .requiredOption("-n, --name <name>", "the service's name (lowercase letters, digits and '-')")
          .option("-m, --model-file <path>", "a model file or folder to register and deploy (repeat for more)", collect, [])
          .option("-i, --model-id <id>", "a registered model to deploy (repeat for more)", collect, [])
          .option("--compute <id>", "the compute target to run on", "local"),
        false,
      ),
    ),
  ).action(async (opts: SettingsFlags & ImageFlags & { name: string }, command: Command) => {
    const ctx = contextOf(command);
    if (!opts.imageId && !opts.file)
      command.error("error: give --image-id <id>, or the files: -m <model> -f <score.py> -r python", { exitCode: EXIT.usage });
    if (opts.autoscaleEnabled && opts.numReplicas !== undefined)
      command.error("error: -z/--num-replicas cannot go with --autoscale-enabled (the autoscaler's min and max set the range)", {
        exitCode: EXIT.usage,
      });
    let imageId = opts.imageId;
    if (!imageId) {
      // One command from files to a running service: model, manifest and image first.
      const built = await createImage(ctx, opts.name, { ...opts, wait: true });
      imageId = built.image!.id;
    }
    const body = {
      name: opts.name,
      computeResource: { id: opts.compute, type: "Cluster" },
      ...settingsBody(opts),
      imageId,
      ...(opts.numReplicas === undefined && !opts.autoscaleEnabled ? { numReplicas: 1 } : {}),
    };
    await replaceFailedService(ctx, opts.name);
    const { operationId } = await ctx.api.startOperation("POST", "services", body);
    if (!opts.wait) return ctx.print({ operationId });
    const status = await settle(ctx, operationId, opts, `service ${opts.name}`);
    const created = await ctx.api.get<Service>(new URL(status.resourceLocation!).toString());
    ctx.print(created, SERVICE_VIEW);
    ctx.note(`\n${usageText(ctx, created, await exampleInput(created))}`);
  });

  addWaitOptions(
    addSettingsOptions(
      addServiceRef(realtime(service, "update", "Update a service: fields not given keep their value; a new image rolls out safely")),
    ),
  ).action(async (opts: SettingsFlags & WaitFlags & ServiceRef, command: Command) => {
    const ctx = contextOf(command);
    const current = await namedService(ctx, opts, command);
    const body = settingsBody(opts);
    if (Object.keys(body).length === 0)
      command.error("error: nothing to update: give --image-id or a setting to change", { exitCode: EXIT.usage });
    const { operationId } = await ctx.api.startOperation("PUT", `services/${current.id}`, body);
    if (!opts.wait) return ctx.print({ operationId });
    await settle(ctx, operationId, opts, `service ${current.name}`);
    ctx.print(await ctx.api.get(`services/${current.id}`), SERVICE_VIEW);
  });

  addServiceRef(realtime(service, "show", "Show a service, with its image, manifest and models")).action(
    async (opts: ServiceRef, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await namedService(ctx, opts, command), SERVICE_VIEW);
    },
  );

  realtime(service, "list", "List services")
    .option("-n, --name <name>", "only the service of this name")
    .option("--model-id <id>", "only services of this model")
    .option("--model-name <name>", "only services of models of this name")
    .option("--manifest-id <id>", "only services of this manifest")
    .option("--manifest-name <name>", "only services of manifests of this name")
    .option("--image-id <id>", "only services of this image")
    .option("--compute <id>", "only services on this compute target")
    .option("--top <n>", "at most this many", positiveInt)
    .action(
      async (
        o: {
          name?: string;
          modelId?: string;
          modelName?: string;
          manifestId?: string;
          manifestName?: string;
          imageId?: string;
          compute?: string;
          top?: number;
        },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const query = {
          serviceName: o.name,
          modelId: o.modelId,
          modelName: o.modelName,
          manifestId: o.manifestId,
          manifestName: o.manifestName,
          imageId: o.imageId,
          computeResourceId: o.compute,
        };
        ctx.print(await ctx.api.list("services", query, o.top), SERVICE_VIEW);
      },
    );

  addServiceRef(realtime(service, "delete", "Delete a service: its replicas stop and its scoring URL goes away")).action(
    async (opts: ServiceRef, command: Command) => {
      const ctx = contextOf(command);
      const current = await namedService(ctx, opts, command);
      const answer = await ctx.api.call("DELETE", `services/${current.id}`);
      ctx.note(answer.status === 204 ? `Service ${current.name} was already gone.` : `Deleted service ${current.name} (${current.id}).`);
    },
  );

  addServiceRef(realtime(service, "run", "Score: send input to a service and print its answer (without -d, the example of its schema)"))
    .option("-d, --data <json>", "the input, as JSON (default: the example input of the service's schema)")
    .action(async (opts: ServiceRef & { data?: string }, command: Command) => {
      const ctx = contextOf(command);
      if (opts.data !== undefined) {
        try {
          JSON.parse(opts.data);
        } catch {
          command.error("error: -d/--data must be JSON, e.g. -d '{\"input\": [[1, 2]]}'", { exitCode: EXIT.usage });
        }
      }
      const current = await namedService(ctx, opts, command);
      if (!current.scoringUri) throw new CliError(`Service ${current.name} has no scoring URL yet (it is ${current.state}).`);
      let data = opts.data;
      if (data === undefined) {
        const example = await exampleInput(current);
        if (example === undefined)
          throw new CliError(
            `Service ${current.name} publishes no example input (it was deployed without a schema): give the input with -d '<json>'.`,
            EXIT.usage,
          );
        data = JSON.stringify(example);
        ctx.verbose(`scoring the schema's example: ${data}`);
      }
      const keys = await ctx.api.get<{ primaryKey: string }>(`services/${current.id}/keys`);
      const res = await fetch(current.scoringUri, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${keys.primaryKey}` },
        body: data,
      });
      const text = await res.text();
      if (!res.ok) throw new CliError(`The service answered ${res.status}: ${errorText(text).slice(0, 2000)}`);
      let result: unknown = text;
      try {
        result = JSON.parse(text);
      } catch {
        // A driver may answer plain bytes.
      }
      ctx.printResult(result);
    });

  addServiceRef(realtime(service, "usage", "How to call a service: scoring URL, headers, swagger, a sample curl")).action(
    async (opts: ServiceRef, command: Command) => {
      const ctx = contextOf(command);
      const current = await namedService(ctx, opts, command);
      const uri = current.scoringUri;
      const example = await exampleInput(current);
      ctx.printText(usageText(ctx, current, example), {
        scoringUri: uri ?? null,
        swaggerUri: uri ? swaggerUriOf(uri) : null,
        sampleInput: example ?? null,
      });
    },
  );

  addServiceRef(realtime(service, "keys", "Show a service's keys, or regenerate one: --regen --key Primary|Secondary"))
    .option("--regen [keyType]", "regenerate a key (Primary unless --key says; the old value stops working at once)")
    .option("-k, --key <keyType>", "the key to regenerate: Primary or Secondary")
    .action(async (opts: ServiceRef & { regen?: string | boolean; key?: string }, command: Command) => {
      const ctx = contextOf(command);
      if (opts.regen === undefined && opts.key !== undefined)
        command.error("error: --key goes with --regen: mm service keys realtime -i <id> --regen --key Secondary", { exitCode: EXIT.usage });
      const current = await namedService(ctx, opts, command);
      if (opts.regen === undefined) return ctx.print(await ctx.api.get(`services/${current.id}/keys`));
      const named = opts.key ?? (typeof opts.regen === "string" ? opts.regen : "Primary");
      const keyType = /^primary$/i.test(named) ? "Primary" : /^secondary$/i.test(named) ? "Secondary" : undefined;
      if (!keyType) command.error("error: the key to regenerate is Primary or Secondary", { exitCode: EXIT.usage });
      ctx.print((await ctx.api.call("POST", `services/${current.id}/keys`, { body: { keyType } })).body);
    });

  addServiceRef(realtime(service, "logs", "Show the last lines each replica wrote"))
    .option("--tail <n>", "lines per replica", positiveInt)
    .action(async (opts: ServiceRef & { tail?: number }, command: Command) => {
      const ctx = contextOf(command);
      const current = await namedService(ctx, opts, command);
      const text = await ctx.api.get<string>(`services/${current.id}/logs`, { tail: opts.tail });
      ctx.printText(typeof text === "string" ? text : JSON.stringify(text, null, 2), { logs: text });
    });

  addServiceRef(realtime(service, "deployments", "List a service's deployments (rollouts), newest first")).action(
    async (opts: ServiceRef, command: Command) => {
      const ctx = contextOf(command);
      const current = await namedService(ctx, opts, command);
      ctx.print(await ctx.api.get("deployments", { serviceId: current.id }), DEPLOYMENT_VIEW);
    },
  );
  return service;
}

/** The message of a scoring server's JSON error, or the text as it came. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  return text;
}
