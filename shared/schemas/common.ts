import { z } from "zod";

/** A string a person typed: not blank, no control characters. */
export const displayString = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .regex(/\S/, "must not be blank")
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters");

/**
 * A resource's optional description. The 2017 CLI sent `"description": null` when none was
 * given; null is taken as leaving it out.
 */
export const description = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .nullish()
  .transform((v) => v ?? undefined);

/** Where a worker will fetch content from: an absolute http(s) URL. The URL guard checks hosts when it is fetched. */
export const contentUrl = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "https:" || u.protocol === "http:") && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, "must be an absolute http or https URL");

/** `count` and `$skipToken` of every list. */
export const pageQuery = {
  count: z
    .string()
    .regex(/^\d+$/, "must be a positive integer")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, "must be between 1 and 1000")
    .optional(),
  $skipToken: z.string().min(1, "must not be empty").max(8192, "is too long").optional(),
};

export const DEFAULT_PAGE_SIZE = 100;

/** The path segments naming an account, with Azure's naming rules. */
export const accountParams = z.object({
  subscriptionId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be a subscription id (letters, digits and hyphens)"),
  resourceGroupName: z
    .string()
    .regex(/^[-\w.()]{0,89}[-\w()]$/, "must be 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'"),
  accountName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"),
});
