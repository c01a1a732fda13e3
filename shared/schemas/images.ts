import { z } from "zod";
import { description, displayString, pageQuery } from "./common.js";

/** ImageRequest. The name becomes the image's repository name, so it follows Docker's rules for one. */
export const imageRequest = z.object({
  name: z
    .string()
    .max(128, "must be at most 128 characters")
    .regex(
      /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
      "must be a Docker repository name: lowercase letters and digits, separated by '.', '_' or '-'",
    ),
  description,
  computeResourceId: displayString(1024),
  imageType: z.enum(["Docker"]),
  manifestId: z.string().min(1, "must not be empty").max(64, "is not a manifest id"),
});

export const imageListQuery = z.object({
  manifestId: z.string().min(1, "must not be empty").optional(),
  manifestName: z.string().min(1, "must not be empty").optional(),
  ...pageQuery,
});
