import type { z } from "zod";
import type { ErrorDetail } from "../errors.js";

/** One detail per bad field, named by its path: `assets[0].url: must be an absolute http or https URL`. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], root?: string): ErrorDetail[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path, root);
    const missing = issue.code === "invalid_type" && (issue as { input?: unknown }).input === undefined;
    if (missing) return { code: "MissingField", message: `${path}: is required` };
    switch (issue.code) {
      case "invalid_type":
        return { code: "InvalidFieldType", message: `${path}: must be ${article(issue.expected)}` };
      case "invalid_value":
        return { code: "InvalidEnumValue", message: `${path}: must be one of ${issue.values.map(String).join(", ")}` };
      case "unrecognized_keys":
        return { code: "UnknownField", message: `${path}: unknown field(s) ${issue.keys.join(", ")}` };
      default:
        return { code: "InvalidFieldValue", message: `${path}: ${issue.message}` };
    }
  });
}

function formatPath(path: readonly PropertyKey[], root?: string): string {
  let out = root ?? "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(body)";
}

function article(expected: string): string {
  if (expected === "array") return "an array";
  if (expected === "object") return "an object";
  if (expected === "record") return "an object";
  if (expected === "int") return "an integer";
  return `a ${expected}`;
}
