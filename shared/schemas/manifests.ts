import { z } from "zod";
import { contentUrl, description, displayString, pageQuery } from "./common.js";

const assetSchema = z.object({
  id: displayString(255),
  mimeType: z.string().max(255, "must be at most 255 characters").optional(),
  unpack: z.boolean().optional(),
  url: contentUrl,
});

/** Manifest (request). Whether modelIds are registered and driverProgram names an asset is checked against the store. */
export const manifestRequest = z
  .object({
    name: displayString(255),
    description,
    driverProgram: displayString(255),
    assets: z.array(assetSchema).min(1, "must list at least the driver program's asset").max(100, "must have at most 100 assets"),
    modelIds: z
      .array(z.string().min(1, "must not be empty").max(64, "is not a model id"))
      .max(100, "must have at most 100 models")
      .optional(),
    modelType: z.enum(["Registered"]).optional(),
    targetRuntime: z.object({
      runtimeType: z.enum(["Python", "SparkPython"]),
      properties: z.record(z.string(), z.string()),
    }),
    webserviceType: z.enum(["Realtime"]).optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.assets.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({
          code: "custom",
          path: ["assets", i, "id"],
          message: `is used by another asset ("${a.id}"): asset ids must be unique`,
        });
      seen.add(a.id);
    });
  });

export const manifestListQuery = z.object({
  modelId: z.string().min(1, "must not be empty").optional(),
  manifestName: z.string().min(1, "must not be empty").optional(),
  ...pageQuery,
});
