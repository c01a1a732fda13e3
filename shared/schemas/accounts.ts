import { z } from "zod";
import { ROLES } from "../auth/roles.js";
import { pageQuery } from "./common.js";

export const accountRequest = z.object({
  location: z
    .string()
    .regex(/^[a-z0-9]{1,64}$/i, "must be an Azure region name such as westeurope, or 'local'")
    .optional(),
  description: z.string().max(4096, "must be at most 4096 characters").optional(),
  tags: z
    .record(
      z.string().max(512, "tag names must be at most 512 characters"),
      z.string().max(256, "tag values must be at most 256 characters"),
    )
    .optional(),
});
export type AccountRequest = z.output<typeof accountRequest>;

export const roleAssignmentRequest = z.object({ role: z.enum(ROLES) });

export const principalIdParam = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, "must be a principal id (an object id or subject)");

export const accountListQuery = z.object({ ...pageQuery });
