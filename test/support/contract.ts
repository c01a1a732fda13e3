import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { OpenAPIV3_1 } from "openapi-types";
import { ENDPOINTS } from "../../functions/api-catalog.js";
import { openApiDocument } from "../../shared/openapi/openapi-document.js";

// ajv-formats is CommonJS: under Node's ESM its default export arrives wrapped in another.
type AddFormats = (ajv: Ajv2020) => void;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

interface Route {
  pattern: RegExp;
  method: string;
  operation: OpenAPIV3_1.OperationObject;
}

/**
 * The API's OpenAPI document as a checker of what the service answers: every response a test
 * receives from the API is held to the operation it belongs to (its status, the headers it
 * requires, its JSON body against the schema), so a handler that answers outside its contract
 * fails the test that called it. Paths the document does not describe (a route that does not
 * exist, on purpose) are not checked.
 */
export class ApiContract {
  readonly #routes: Route[];
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #validators = new Map<object, ValidateFunction>();
  readonly #components: Record<string, unknown>;

  constructor() {
    const doc = openApiDocument(ENDPOINTS, "http://contract/api") as unknown as OpenAPIV3_1.Document;
    addFormats(this.#ajv);
    this.#components = { schemas: doc.components?.schemas ?? {} };
    this.#routes = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item ?? {}).map(([method, operation]) => ({
        pattern: new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+")}$`),
        method: method.toUpperCase(),
        operation: operation as OpenAPIV3_1.OperationObject,
      })),
    );
  }

  /** What is wrong with an answer, by the contract of the operation its request named; empty when nothing is. */
  problems(method: string, path: string, status: number, headers: Headers, body: unknown): string[] {
    const route = this.#routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) return [];
    const responses = route.operation.responses ?? {};
    const answer = (responses[String(status)] ?? (status >= 400 ? responses.default : undefined)) as OpenAPIV3_1.ResponseObject | undefined;
    const where = `${method} ${path} → ${status} (${route.operation.operationId})`;
    if (!answer) return [`${where}: the contract has no such answer (it has ${Object.keys(responses).join(", ")})`];
    const problems: string[] = [];
    for (const [name, header] of Object.entries(answer.headers ?? {}))
      if ((header as OpenAPIV3_1.HeaderObject).required && !headers.has(name)) problems.push(`${where}: no ${name} header`);
    const schema = answer.content?.["application/json"]?.schema;
    if (schema) {
      const validate = this.#validatorOf(schema);
      if (!validate(body)) problems.push(`${where}: the body is not what the contract says: ${this.#ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  #validatorOf(schema: object): ValidateFunction {
    let validate = this.#validators.get(schema);
    if (!validate) {
      // The document's components go along, so that its #/components/schemas/… references resolve.
      validate = this.#ajv.compile({ ...schema, components: this.#components });
      this.#validators.set(schema, validate);
    }
    return validate;
  }
}
