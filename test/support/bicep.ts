import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Language, Parser, type Node } from "web-tree-sitter";

/**
 * Bicep read with tree-sitter-bicep's grammar (its WASM build, run by web-tree-sitter): no Bicep
 * compiler can be installed here (it is a download), so the tests hold the infra/ files to the
 * grammar and to the Azure SDKs' models instead.
 */
let parser: Parser | undefined;

async function bicepParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve("tree-sitter-bicep/tree-sitter-bicep.wasm");
  const language = await Language.load(wasm);
  parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

/** What a Bicep expression is worth to these checks: objects and arrays as they are, anything else a stand-in. */
export const EXPRESSION = Symbol("expression");
export type BicepValue = typeof EXPRESSION | string | number | boolean | null | BicepValue[] | { [key: string]: BicepValue };

export interface BicepResource {
  symbol: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  body: Record<string, BicepValue>;
  line: number;
}

export interface BicepFile {
  /** Where the grammar found no valid Bicep: `line:column` of each error or missing token. */
  syntaxErrors: string[];
  resources: BicepResource[];
  modules: { symbol: string; path: string; params: Record<string, BicepValue>; line: number }[];
  parameters: { name: string; required: boolean }[];
}

export async function parseBicep(text: string): Promise<BicepFile> {
  const tree = (await bicepParser()).parse(text);
  if (!tree) throw new Error("tree-sitter returned no tree");
  const root = tree.rootNode;
  const syntaxErrors: string[] = [];
  const visit = (n: Node): void => {
    if (n.isError || n.isMissing) syntaxErrors.push(`${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    else if (n.hasError) for (const c of n.children) if (c) visit(c);
  };
  visit(root);
  const top = root.children.filter((c): c is Node => c !== null);
  return {
    syntaxErrors,
    resources: top
      .filter((n) => n.type === "resource_declaration")
      .map((n) => {
        const [type, apiVersion] = stringOf(childOfType(n, "string")!).split("@") as [string, string];
        const body = bodyOf(n);
        return {
          symbol: childOfType(n, "identifier")!.text,
          type,
          apiVersion,
          existing: n.children.some((c) => c?.text === "existing"),
          body: body ? (valueOf(body) as Record<string, BicepValue>) : {},
          line: n.startPosition.row + 1,
        };
      }),
    modules: top
      .filter((n) => n.type === "module_declaration")
      .map((n) => {
        const body = bodyOf(n);
        const value = body ? (valueOf(body) as Record<string, BicepValue>) : {};
        const params = value.params;
        return {
          symbol: childOfType(n, "identifier")!.text,
          path: stringOf(childOfType(n, "string")!),
          params: typeof params === "object" && params !== null && !Array.isArray(params) ? params : {},
          line: n.startPosition.row + 1,
        };
      }),
    parameters: top
      .filter((n) => n.type === "parameter_declaration")
      .map((n) => ({ name: childOfType(n, "identifier")!.text, required: !n.children.some((c) => c?.text === "=") })),
  };
}

export async function parseBicepFile(path: string): Promise<BicepFile> {
  return parseBicep(readFileSync(path, "utf8"));
}

function childOfType(n: Node, type: string): Node | undefined {
  return n.children.find((c): c is Node => c?.type === type);
}

/** The object a resource or module declares, also under `if (…)` or `[for … : {…}]`. */
function bodyOf(n: Node): Node | undefined {
  const direct = childOfType(n, "object");
  if (direct) return direct;
  for (const c of n.children) {
    if (!c || !["if_statement", "for_statement"].includes(c.type)) continue;
    const inner = c.childForFieldName("body") ?? childOfType(c, "object");
    if (inner?.type === "object") return inner;
    if (inner) return childOfType(inner, "object");
  }
  return undefined;
}

function stringOf(n: Node): string {
  // Interpolations stay as written: a type string has none.
  return n.text.replace(/^'|'$/g, "").replace(/\\'/g, "'");
}

function valueOf(n: Node): BicepValue {
  switch (n.type) {
    case "object": {
      const out: Record<string, BicepValue> = {};
      for (const p of n.children) {
        if (p?.type !== "object_property") continue;
        const [key, , value] = p.children.filter((c): c is Node => c !== null);
        if (!key || !value) continue;
        out[key.type === "string" ? stringOf(key) : key.text] = valueOf(value);
      }
      return out;
    }
    case "array":
      return n.children.filter((c): c is Node => c !== null && !["[", "]", ","].includes(c.type)).map(valueOf);
    case "string":
      return n.children.some((c) => c?.type === "interpolation") ? EXPRESSION : stringOf(n);
    case "boolean":
      return n.text === "true";
    case "number":
      return Number(n.text);
    case "null":
      return null;
    default:
      return EXPRESSION;
  }
}
