import { z } from "zod";
import { contentUrl, description, displayString, pageQuery } from "./common.js";

/** Model (request): the read-only id, version and createdAt are ignored if sent. */
export const modelRequest = z.object({
  name: displayString(255),
  description,
  tags: z.array(displayString(256)).max(100, "must have at most 100 tags").optional(),
  mimeType: displayString(255),
  unpack: z.boolean().optional(),
  url: contentUrl,
});
export type ModelRequest = z.output<typeof modelRequest>;

export const modelListQuery = z.object({
  name: z.string().min(1, "must not be empty").optional(),
  tag: z.string().min(1, "must not be empty").optional(),
  ...pageQuery,
});
