import { requireFromEngine } from "./emulator-internals.js";

/**
 * Makes the emulator's queries linear in the number of documents.
 *
 * @zeit/cosmosdb-query (the query engine of @vercel/cosmosdb-server) compiles a query's FROM and
 * JOIN clauses into reducers that copy their accumulator for every document,
 * `docs.reduce(($, c) => [...$, { c }], [])`: quadratic. 25 000 documents took 5 s a query, held
 * the emulator's event loop that long, and made every list of a large account crawl. We compile
 * the same JavaScript AST with those reducers pushing onto their accumulator instead
 * (`($.push({ c }), $)`): the same results, in linear time. The accumulator is always a fresh
 * array literal passed to `reduce`, so mutating it is safe.
 *
 * Patched here rather than forked: the engine is pinned (package-lock), and the test suite runs
 * every query shape the app uses through it.
 */
type JsNode = { type?: string; [key: string]: unknown };

let installed = false;

export function installLinearQueries(): void {
  if (installed) return;
  installed = true;
  const makeQuery = (requireFromEngine("@zeit/cosmosdb-query") as { default: (sql: string) => object }).default;
  const transform = (requireFromEngine("./transformer") as { default: (ast: unknown) => JsNode }).default;
  const generate = (requireFromEngine("@babel/generator") as { default: (ast: JsNode) => { code: string } }).default;
  const QueryPrototype = Object.getPrototypeOf(makeQuery("SELECT * FROM c")) as object;
  Object.defineProperty(QueryPrototype, "code", {
    configurable: true,
    get(this: { ast: unknown; _code: string | null }) {
      if (!this._code) {
        const jsAst = transform(this.ast);
        linearize(jsAst);
        this._code = generate(jsAst).code;
      }
      return this._code;
    },
  });
}

const isAccumulator = (node: unknown): boolean =>
  (node as JsNode | undefined)?.type === "Identifier" && (node as { name?: string }).name === "$";

/** `[...$, a, ...b]` → `($.push(a, ...b), $)`; anything else unchanged. */
function pushInstead(node: JsNode): JsNode {
  const elements = node.type === "ArrayExpression" ? (node.elements as JsNode[]) : undefined;
  if (!elements || elements.length < 2 || elements[0]?.type !== "SpreadElement" || !isAccumulator(elements[0].argument)) return node;
  return {
    type: "SequenceExpression",
    expressions: [
      {
        type: "CallExpression",
        callee: {
          type: "MemberExpression",
          object: { type: "Identifier", name: "$" },
          property: { type: "Identifier", name: "push" },
          computed: false,
        },
        arguments: elements.slice(1),
      },
      { type: "Identifier", name: "$" },
    ],
  };
}

function linearize(node: unknown): void {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const child of node) linearize(child);
    return;
  }
  const n = node as JsNode;
  if (n.type === "ArrowFunctionExpression" && Array.isArray(n.params) && n.params.length === 2 && isAccumulator(n.params[0])) {
    const body = n.body as JsNode;
    if (body.type === "ConditionalExpression") body.consequent = pushInstead(body.consequent as JsNode);
    else n.body = pushInstead(body);
  }
  for (const value of Object.values(n)) linearize(value);
}
