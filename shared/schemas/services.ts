import { z } from "zod";
import { displayString, pageQuery } from "./common.js";
import { memoryBytes } from "../compute/quantities.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.number().int("must be an integer").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const autoScalerSchema = z.object({
  autoscaleEnabled: z.boolean(),
  minReplicas: int(0).optional(),
  maxReplicas: int(1).optional(),
  refreshPeriodInSeconds: int(1).optional(),
  targetUtilization: int(0, 100).optional(),
});

/** Kubernetes quantities: cpu `0.5`, `500m`; memory `2G`, `512Mi`. */
const cpuQuantity = z
  .union([z.number().positive("must be more than 0").transform(String), z.string()])
  .pipe(z.string().regex(/^(\d+(\.\d+)?|\d+m)$/, "must be a Kubernetes CPU quantity such as 0.5 or 500m"));
const memoryQuantity = z.string().refine((q) => memoryBytes(q) !== undefined, "must be a Kubernetes memory quantity such as 2G or 512Mi");

const settings = {
  imageId: z.string().min(1, "must not be empty").max(64, "is not an image id"),
  numReplicas: int(0).optional(),
  autoScaler: autoScalerSchema.optional(),
  containerResourceReservation: z.object({ cpu: cpuQuantity.optional(), memory: memoryQuantity.optional() }).optional(),
  dataCollection: z.object({ eventHubEnabled: z.boolean().optional(), storageEnabled: z.boolean().optional() }).optional(),
  appInsightsEnabled: z.boolean().optional(),
  maxConcurrentRequestsPerContainer: int(1).optional(),
  /**
   * Adaptive batching (an extension of the 2017 API), for drivers that define run_batch(inputs):
   * up to maxBatchSize concurrent requests per call, a request waiting at most maxWaitInMilliseconds.
   */
  batching: z.object({ maxBatchSize: int(1, 1024), maxWaitInMilliseconds: int(0, 10_000).optional() }).optional(),
};

function checkReplicas(s: { numReplicas?: number; autoScaler?: z.output<typeof autoScalerSchema> }, ctx: z.RefinementCtx): void {
  if (s.autoScaler?.autoscaleEnabled && s.numReplicas !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["numReplicas"],
      message: "cannot be given when the autoscaler is enabled (autoScaler.minReplicas and maxReplicas set the range)",
    });
  }
  const a = s.autoScaler;
  if (a?.minReplicas !== undefined && a.maxReplicas !== undefined && a.minReplicas > a.maxReplicas) {
    ctx.addIssue({ code: "custom", path: ["autoScaler", "minReplicas"], message: "must not be more than autoScaler.maxReplicas" });
  }
}

/** ServiceCreateRequest. The name is part of the scoring URL, so it follows Kubernetes' rules for names. */
export const serviceCreateRequest = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/,
        "must be 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit",
      ),
    description: displayString(4096).optional(),
    computeResource: z.object({ id: displayString(1024), type: z.enum(["Cluster"]).optional() }),
    ...settings,
  })
  .superRefine(checkReplicas);

/** ServiceUpdateRequest: fields left out keep their value. */
export const serviceUpdateRequest = z.object({ ...settings, imageId: settings.imageId.optional() }).superRefine(checkReplicas);

export const serviceListQuery = z.object({
  serviceName: z.string().min(1).optional(),
  modelId: z.string().min(1).optional(),
  modelName: z.string().min(1).optional(),
  manifestId: z.string().min(1).optional(),
  manifestName: z.string().min(1).optional(),
  imageId: z.string().min(1).optional(),
  computeResourceId: z.string().min(1).optional(),
  ...pageQuery,
});
export type ServiceFilters = Omit<z.output<typeof serviceListQuery>, "count" | "$skipToken">;

export const regenerateKeyRequest = z.object({ keyType: z.enum(["Primary", "Secondary"]) });

export const deploymentListQuery = z.object({ serviceId: z.string().min(1).optional() });
