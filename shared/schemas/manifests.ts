import { z } from "zod";
import { contentUrl, description, displayString, pageQuery } from "./common.js";

/**
 * An asset id (and `driverProgram`) is where the file goes in the app: a relative path that stays
 * inside it. No leading `/` or drive, no `.` or `..` segment, no backslash, no empty segment.
 */
const appPath = displayString(255).refine((v) => {
  if (v.includes("\\") || v.startsWith("/") || /^[A-Za-z]:/.test(v)) return false;
  return v.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}, "must be a relative path inside the app (no leading /, no . or .. segments, no backslashes)");

const assetSchema = z.object({
  id: appPath,
  mimeType: z.string().max(255, "must be at most 255 characters").optional(),
  unpack: z.boolean().optional(),
  url: contentUrl,
});

/** Manifest (request). Whether modelIds are registered and driverProgram names an asset is checked against the store. */
export const manifestRequest = z
  .object({
    name: displayString(255),
    description,
    driverProgram: appPath,
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
