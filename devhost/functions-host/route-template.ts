/**
 * ASP.NET Core route templates as the Functions host reads them: literal segments match
 * case-insensitively, `{name}` takes one segment, `{name:int}` adds a constraint, `{name?}`
 * may be left out at the end, `{*name}` takes the rest of the path.
 */
export interface CompiledRoute {
  template: string;
  /** Sorts routes so the most specific template is tried first, as ASP.NET does. */
  precedence: number[];
  match(path: string): Record<string, string> | undefined;
}

const constraints: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
  double: /^-?\d+(\.\d+)?$/,
  decimal: /^-?\d+(\.\d+)?$/,
  float: /^-?\d+(\.\d+)?$/,
  datetime: /^\d{4}-\d{2}-\d{2}/,
};

interface Segment {
  literal?: string;
  param?: string;
  constraint?: RegExp;
  optional?: boolean;
  catchAll?: boolean;
}

function parseSegment(raw: string, template: string): Segment {
  const m = /^\{(\*)?([A-Za-z_][\w]*)(?::([a-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(raw);
  if (!m) {
    if (raw.includes("{") || raw.includes("}")) throw new Error(`Route template "${template}": unsupported segment "${raw}".`);
    return { literal: raw.toLowerCase() };
  }
  const [, star, name, constraintName, optional] = m;
  const constraint = constraintName ? constraints[constraintName] : undefined;
  if (constraintName && !constraint) throw new Error(`Route template "${template}": unknown constraint "${constraintName}".`);
  return { param: name, constraint, optional: optional === "?", catchAll: star === "*" };
}

export function compileRoute(template: string): CompiledRoute {
  const segments = template
    .split("/")
    .filter((s) => s.length > 0)
    .map((s) => parseSegment(s, template));
  const precedence = segments.map((s) => (s.literal !== undefined ? 1 : s.catchAll ? 5 : s.optional ? 4 : s.constraint ? 2 : 3));
  return {
    template,
    precedence,
    match(path: string) {
      const parts = path.split("/").filter((s) => s.length > 0);
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i];
        if (seg.catchAll) {
          params[seg.param!] = parts.slice(i).map(decode).join("/");
          return params;
        }
        if (part === undefined) {
          if (seg.optional && i === segments.length - 1) return params;
          return undefined;
        }
        if (seg.literal !== undefined) {
          if (decode(part).toLowerCase() !== seg.literal) return undefined;
          continue;
        }
        const value = decode(part);
        if (seg.constraint && !seg.constraint.test(value)) return undefined;
        params[seg.param!] = value;
      }
      return parts.length === segments.length ? params : undefined;
    },
  };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function byPrecedence(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const d = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
