import { z } from "zod";
import type { EndpointDescription, Needs } from "../http/endpoint-description.js";
import { accountParams } from "../schemas/common.js";
import { API_VERSION } from "../schemas/api-version.js";
import { errorResponse } from "../schemas/responses.js";

type JsonSchema = Record<string, unknown>;

const COMPONENT = (id: string) => `#/components/schemas/${id}`;

/**
 * A zod schema as JSON Schema (2020-12, what OpenAPI 3.1 uses): requests as the client sends them
 * (`input`), answers as the service writes them (`output`). Schemas with an id (`.meta({id})`)
 * become references to components, which `components()` holds.
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema, $defs, ...rest } = z.toJSONSchema(schema, { io, metadata: z.globalRegistry, unrepresentable: "any" }) as JsonSchema;
  void $schema;
  void $defs; // every entry of $defs has an id, and is a component
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${COMPONENT("")}`)) as JsonSchema;
}

/** Every schema with an id, as components (answers: `output`). */
function components(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { io: "output", uri: COMPONENT, unrepresentable: "any" }) as {
    schemas: Record<string, JsonSchema>;
  };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema, $id, ...rest } = s;
      void $schema;
      void $id;
      return [id, rest];
    }),
  );
}

const NEEDS: Record<Needs, string> = {
  nothing: "Anonymous.",
  "a token": "Any signed-in principal.",
  Reader: "The Reader role (or Contributor, Owner) on the account.",
  Contributor: "The Contributor role (or Owner) on the account.",
  Owner: "The Owner role on the account.",
};

/** The OpenAPI 3.1 document of the endpoints, served from `serverUrl` (the API's base, `…/api`). */
export function openApiDocument(endpoints: Record<string, EndpointDescription>, serverUrl: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [operationId, e] of Object.entries(endpoints)) {
    const path = `/${e.route}`;
    const names = [...e.route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const accountShape = accountParams.shape as Record<string, z.ZodType>;
    const parameters: JsonSchema[] = names.map((name) => ({
      name,
      in: "path",
      required: true,
      schema: jsonSchema(accountShape[name] ?? e.params?.[name] ?? z.string(), "input"),
    }));
    if (e.needs !== "nothing")
      parameters.push({ name: "api-version", in: "query", required: true, schema: { type: "string", enum: [API_VERSION] } });
    for (const [name, schema] of Object.entries(e.query?.shape ?? {})) {
      const property = jsonSchema(schema as z.ZodType, "input");
      parameters.push({ name, in: "query", required: !(schema as z.ZodType).safeParse(undefined).success, schema: property });
    }
    const responses: Record<string, JsonSchema> = {};
    for (const [status, answer] of Object.entries(e.answers)) {
      responses[status] = {
        description: answer.description,
        ...(answer.body ? { content: { "application/json": { schema: jsonSchema(answer.body, "output") } } } : {}),
        ...(answer.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(answer.headers).map(([h, d]) => [h, { description: d, required: true, schema: { type: "string" } }]),
              ),
            }
          : {}),
      };
    }
    if (e.needs !== "nothing")
      responses.default = {
        description: "an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After)",
        content: { "application/json": { schema: { $ref: COMPONENT("ErrorResponse") } } },
      };
    (paths[path] ??= {})[e.method.toLowerCase()] = {
      operationId,
      summary: e.summary,
      description: NEEDS[e.needs],
      ...(e.needs === "nothing" ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(e.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(e.body, "input") } } } } : {}),
      responses,
    };
  }
  void errorResponse; // registered (with its id) for the default answers above
  return {
    openapi: "3.1.0",
    info: {
      title: "Model Management Account API",
      version: API_VERSION,
      description:
        "Register versioned models, build manifests into Docker images, and deploy them as real-time scoring services. Every call but health and this document needs `Authorization: Bearer <token>` and `api-version`.",
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: components(),
    },
  };
}
