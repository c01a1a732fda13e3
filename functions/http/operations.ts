import type { HttpHandler } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { isClientOperation, operationView } from "../../shared/views.js";
import { Errors } from "../../shared/errors.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import type { OperationDocument } from "../../shared/store/documents.js";

/** What the operation endpoint uses. */
export interface OperationEndpointDeps extends EndpointDeps {
  operations: { get(pk: string, id: string): Promise<OperationDocument | undefined> };
}

/** 19 `GET {account}/operations/{id}`: AsyncOperationStatus. */
export const makeGetOperation = (deps: () => Promise<OperationEndpointDeps>): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const operation = await deps.operations.get(pk, id);
      // Purges are the service's own housekeeping after a delete, not operations a client started.
      if (!operation || !isClientOperation(operation)) throw Errors.operationNotFound(id);
      return json(200, operationView(operation, new URL(request.url).origin));
    },
  });
