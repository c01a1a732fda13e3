import { Command, InvalidArgumentError } from "commander";
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
    .option("-z, --num-replicas <n>", "how many replicas (not with autoscaling)", nonNegativeInt);
}

/** The request fields the flags set; fields not given are left out (update keeps their value). */
function settingsBody(f: SettingsFlags): Record<string, unknown> {
  const autoscale = [f.autoscaleEnabled, f.autoscaleMinReplicas, f.autoscaleMaxReplicas, f.autoscaleRefreshPeriodSeconds, f.autoscaleTargetUtilization].some((v) => v !== undefined);
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
    ...(reservation ? { containerResourceReservation: { ...(f.cpu ? { cpu: f.cpu } : {}), ...(f.memory ? { memory: f.memory } : {}) } } : {}),
    ...(f.collectModelData !== undefined ? { dataCollection: { storageEnabled: f.collectModelData } } : {}),
    ...(f.enableAppInsights !== undefined ? { appInsightsEnabled: f.enableAppInsights } : {}),
    ...(f.replicaMaxConcurrentRequests !== undefined ? { maxConcurrentRequestsPerContainer: f.replicaMaxConcurrentRequests } : {}),
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

function usageText(ctx: Context, service: Service): string {
  const uri = service.scoringUri ?? "(no scoring URL yet)";
  const swagger = service.scoringUri ? service.scoringUri.replace(/\/score$/, "/swagger.json") : "(none yet)";
  const account = ctx.accountPath;
  return [
    `Scoring URL:  ${uri}`,
    `Headers:      Content-Type: application/json`,
    `              Authorization: Bearer <key>   (mm service keys realtime -i ${service.name})`,
    `Swagger:      ${swagger}`,
    `Sample curl:`,
    `  curl -X POST '${uri}' -H 'Content-Type: application/json' \\`,
    `    -H "Authorization: Bearer $(mm service keys realtime -i ${service.id} --account ${account} --query primaryKey -o tsv)" \\`,
    `    -d '<input json>'`,
    `Or:           mm service run realtime -i ${service.name} -d '<input json>'`,
  ].join("\n");
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
        realtime(service, "create", "Create a real-time service from an image (--image-id), or from files: -m model.pkl -f score.py -r python")
          .requiredOption("-n, --name <name>", "the service's name (lowercase letters, digits and '-')")
          .option("-m, --model-file <path>", "a model file or folder to register and deploy (repeat for more)", collect, [])
          .option("-i, --model-id <id>", "a registered model to deploy (repeat for more)", collect, [])
          .option("--compute <id>", "the compute target to run on", "local"),
        false,
      ),
    ),
  ).action(async (opts: SettingsFlags & ImageFlags & { name: string }, command: Command) => {
    const ctx = contextOf(command);
    if (!opts.imageId && !opts.file) command.error("error: give --image-id <id>, or the files: -m <model> -f <score.py> -r python", { exitCode: EXIT.usage });
    if (opts.autoscaleEnabled && opts.numReplicas !== undefined) command.error("error: -z/--num-replicas cannot go with --autoscale-enabled (the autoscaler's min and max set the range)", { exitCode: EXIT.usage });
    let imageId = opts.imageId;
    if (!imageId) {
      // One command from files to a running service: model, manifest and image first.
      const built = await createImage(ctx, opts.name, { ...opts, wait: true });
      imageId = built.image!.id;
    }
    const body = { name: opts.name, computeResource: { id: opts.compute, type: "Cluster" }, ...settingsBody(opts), imageId, ...(opts.numReplicas === undefined && !opts.autoscaleEnabled ? { numReplicas: 1 } : {}) };
    const { operationId } = await ctx.api.startOperation("POST", "services", body);
    if (!opts.wait) return ctx.print({ operationId });
    const status = await settle(ctx, operationId, opts, `service ${opts.name}`);
    const created = await ctx.api.get<Service>(new URL(status.resourceLocation!).toString());
    ctx.print(created, SERVICE_VIEW);
    ctx.note(`\n${usageText(ctx, created)}`);
  });

  addWaitOptions(
    addSettingsOptions(realtime(service, "update", "Update a service: fields not given keep their value; a new image rolls out safely").requiredOption("-i, --id <id>", "the service's id or name")),
  ).action(async (opts: SettingsFlags & WaitFlags & { id: string }, command: Command) => {
    const ctx = contextOf(command);
    const current = await resolveService(ctx, opts.id);
    const body = settingsBody(opts);
    if (Object.keys(body).length === 0) command.error("error: nothing to update: give --image-id or a setting to change", { exitCode: EXIT.usage });
    const { operationId } = await ctx.api.startOperation("PUT", `services/${current.id}`, body);
    if (!opts.wait) return ctx.print({ operationId });
    await settle(ctx, operationId, opts, `service ${current.name}`);
    ctx.print(await ctx.api.get(`services/${current.id}`), SERVICE_VIEW);
  });

  realtime(service, "show", "Show a service, with its image, manifest and models")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await resolveService(ctx, opts.id), SERVICE_VIEW);
    });

  realtime(service, "list", "List services")
    .option("-n, --name <name>", "only the service of this name")
    .option("--model-id <id>", "only services of this model")
    .option("--model-name <name>", "only services of models of this name")
    .option("--manifest-id <id>", "only services of this manifest")
    .option("--manifest-name <name>", "only services of manifests of this name")
    .option("--image-id <id>", "only services of this image")
    .option("--compute <id>", "only services on this compute target")
    .option("--top <n>", "at most this many", positiveInt)
    .action(async (o: { name?: string; modelId?: string; modelName?: string; manifestId?: string; manifestName?: string; imageId?: string; compute?: string; top?: number }, command: Command) => {
      const ctx = contextOf(command);
      const query = { serviceName: o.name, modelId: o.modelId, modelName: o.modelName, manifestId: o.manifestId, manifestName: o.manifestName, imageId: o.imageId, computeResourceId: o.compute };
      ctx.print(await ctx.api.list("services", query, o.top), SERVICE_VIEW);
    });

  realtime(service, "delete", "Delete a service: its replicas stop and its scoring URL goes away")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      const current = await resolveService(ctx, opts.id);
      const answer = await ctx.api.call("DELETE", `services/${current.id}`);
      ctx.note(answer.status === 204 ? `Service ${current.name} was already gone.` : `Deleted service ${current.name} (${current.id}).`);
    });

  realtime(service, "run", "Score: send input to a service and print its answer")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .requiredOption("-d, --data <json>", "the input, as JSON")
    .action(async (opts: { id: string; data: string }, command: Command) => {
      const ctx = contextOf(command);
      try {
        JSON.parse(opts.data);
      } catch {
        command.error("error: -d/--data must be JSON, e.g. -d '{\"input\": [[1, 2]]}'", { exitCode: EXIT.usage });
      }
      const current = await resolveService(ctx, opts.id);
      if (!current.scoringUri) throw new CliError(`Service ${current.name} has no scoring URL yet (it is ${current.state}).`);
      const keys = await ctx.api.get<{ primaryKey: string }>(`services/${current.id}/keys`);
      const res = await fetch(current.scoringUri, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${keys.primaryKey}` }, body: opts.data });
      const text = await res.text();
      if (!res.ok) throw new CliError(`The service answered ${res.status}: ${text.slice(0, 2000)}`);
      let result: unknown = text;
      try {
        result = JSON.parse(text);
      } catch {
        // A driver may answer plain text.
      }
      ctx.print(result);
    });

  realtime(service, "usage", "How to call a service: scoring URL, headers, swagger, a sample curl")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      const current = await resolveService(ctx, opts.id);
      const uri = current.scoringUri;
      ctx.printText(usageText(ctx, current), { scoringUri: uri ?? null, swaggerUri: uri ? uri.replace(/\/score$/, "/swagger.json") : null });
    });

  realtime(service, "keys", "Show a service's keys, or regenerate one")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .option("--regen <keyType>", "regenerate Primary or Secondary (the old value stops working at once)")
    .action(async (opts: { id: string; regen?: string }, command: Command) => {
      const ctx = contextOf(command);
      const current = await resolveService(ctx, opts.id);
      if (opts.regen === undefined) return ctx.print(await ctx.api.get(`services/${current.id}/keys`));
      const keyType = /^primary$/i.test(opts.regen) ? "Primary" : /^secondary$/i.test(opts.regen) ? "Secondary" : undefined;
      if (!keyType) command.error("error: --regen takes Primary or Secondary", { exitCode: EXIT.usage });
      ctx.print((await ctx.api.call("POST", `services/${current.id}/keys`, { body: { keyType } })).body);
    });

  realtime(service, "logs", "Show the last lines each replica wrote")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .option("--tail <n>", "lines per replica", positiveInt)
    .action(async (opts: { id: string; tail?: number }, command: Command) => {
      const ctx = contextOf(command);
      const current = await resolveService(ctx, opts.id);
      const text = await ctx.api.get<string>(`services/${current.id}/logs`, { tail: opts.tail });
      ctx.printText(typeof text === "string" ? text : JSON.stringify(text, null, 2), { logs: text });
    });

  realtime(service, "deployments", "List a service's deployments (rollouts), newest first")
    .requiredOption("-i, --id <id>", "the service's id or name")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      const current = await resolveService(ctx, opts.id);
      ctx.print(await ctx.api.get("deployments", { serviceId: current.id }), DEPLOYMENT_VIEW);
    });
  return service;
}
