import { describe, expect, it } from "vitest";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { OpenAPIV3_1 } from "openapi-types";
import { ENDPOINTS } from "../../functions/api-catalog.js";
import { openApiDocument } from "../../shared/openapi/openapi-document.js";

const doc = () => openApiDocument(ENDPOINTS, "http://127.0.0.1:7071/api") as unknown as OpenAPIV3_1.Document;

describe("the OpenAPI description of the API", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(doc());
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("describes every endpoint the app registers, with its parameters, body and answers", () => {
    const d = doc();
    const operations = Object.entries(d.paths!).flatMap(([path, item]) =>
      Object.entries(item!).map(([method, op]) => ({ path, method, op: op as OpenAPIV3_1.OperationObject })),
    );
    expect(operations.map((o) => o.op.operationId).sort()).toEqual(Object.keys(ENDPOINTS).sort());
    const register = operations.find((o) => o.op.operationId === "registerModel")!;
    expect(register.method).toBe("post");
    expect(register.path).toBe("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/models");
    const params = (register.op.parameters as OpenAPIV3_1.ParameterObject[]).map((p) => `${p.in}:${p.name}`);
    expect(params).toEqual(["path:subscriptionId", "path:resourceGroupName", "path:accountName", "query:api-version"]);
    const body = (register.op.requestBody as OpenAPIV3_1.RequestBodyObject).content["application/json"]!.schema as Record<string, unknown>;
    expect(body.required).toEqual(["name", "mimeType", "url"]);
    expect(register.op.responses!["200"]).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/Model" } } },
    });
    expect(register.op.responses!.default).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } },
    });

    const list = operations.find((o) => o.op.operationId === "listModels")!;
    expect((list.op.parameters as OpenAPIV3_1.ParameterObject[]).filter((p) => p.in === "query").map((p) => p.name)).toEqual([
      "api-version",
      "name",
      "tag",
      "count",
      "$skipToken",
    ]);
    const create = operations.find((o) => o.op.operationId === "createImage")!;
    expect(create.op.responses!["202"]).toMatchObject({ headers: { "operation-location": { required: true } } });
    const health = operations.find((o) => o.op.operationId === "health")!;
    expect(health.op.security).toEqual([]);
    expect(d.components!.securitySchemes!.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    for (const id of ["Model", "Manifest", "Image", "ServiceResponse", "AsyncOperationStatus", "ErrorResponse", "Deployment", "Account"])
      expect(d.components!.schemas![id], id).toBeDefined();
  });
});
