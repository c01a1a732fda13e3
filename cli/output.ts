import jmespath from "jmespath";
import { CliError, EXIT } from "./errors.js";

export type OutputFormat = "json" | "jsonc" | "table" | "tsv";
export const OUTPUT_FORMATS: OutputFormat[] = ["json", "jsonc", "table", "tsv"];

/** A command's table: the columns worth a glance, as JMESPath over each row. */
export type TableView = [header: string, expression: string][];

interface OutputOptions {
  output: OutputFormat;
  query?: string;
}

/**
 * Writes a command's result to stdout as asked, the way az did: `--query` (JMESPath) first,
 * then the format. A table uses the command's own columns unless a query reshaped the data.
 */
export function render(data: unknown, options: OutputOptions, view?: TableView): string {
  let shaped = data;
  if (options.query) {
    try {
      shaped = jmespath.search(data, options.query);
    } catch (err) {
      throw new CliError(
        `--query ${JSON.stringify(options.query)} is not valid JMESPath: ${err instanceof Error ? err.message : String(err)}`,
        EXIT.usage,
      );
    }
  }
  switch (options.output) {
    case "json":
      return JSON.stringify(shaped ?? null, null, 2) + "\n";
    case "jsonc":
      return colorJson(JSON.stringify(shaped ?? null, null, 2)) + "\n";
    case "tsv":
      return tsv(shaped);
    case "table":
      return table(shaped, options.query ? undefined : view);
  }
}

function rowsOf(data: unknown): unknown[] {
  if (data === null || data === undefined) return [];
  return Array.isArray(data) ? data : [data];
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** One line per item; an object's scalar fields, tab-separated, in its own order. */
function tsv(data: unknown): string {
  return rowsOf(data)
    .map((row) =>
      (row !== null && typeof row === "object" && !Array.isArray(row)
        ? Object.values(row)
            .filter((v) => v === null || typeof v !== "object")
            .map(scalar)
        : Array.isArray(row)
          ? row.map(scalar)
          : [scalar(row)]
      ).join("\t"),
    )
    .map((line) => line + "\n")
    .join("");
}

function table(data: unknown, view: TableView | undefined): string {
  const rows = rowsOf(data);
  if (rows.length === 0) return "";
  let headers: string[];
  let cells: string[][];
  if (view) {
    headers = view.map(([h]) => h);
    cells = rows.map((row) => view.map(([, expr]) => scalar(jmespath.search(row, expr))));
  } else if (rows.every((r) => r !== null && typeof r === "object" && !Array.isArray(r))) {
    headers = [
      ...new Set(
        rows.flatMap((r) =>
          Object.entries(r as object)
            .filter(([, v]) => v === null || typeof v !== "object")
            .map(([k]) => k),
        ),
      ),
    ];
    cells = rows.map((r) => headers.map((h) => scalar((r as Record<string, unknown>)[h])));
    headers = headers.map((h) => h.charAt(0).toUpperCase() + h.slice(1));
  } else {
    headers = ["Result"];
    cells = rows.map((r) => [scalar(r)]);
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n") + "\n";
}

function colorJson(text: string): string {
  if (!process.stdout.isTTY) return text;
  return text.replace(
    /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (m, str: string | undefined, colon: string | undefined, lit: string | undefined) => {
      if (str) return colon ? `\x1b[36m${str}\x1b[0m${colon}` : `\x1b[32m${str}\x1b[0m`;
      if (lit) return `\x1b[35m${m}\x1b[0m`;
      return `\x1b[33m${m}\x1b[0m`;
    },
  );
}
