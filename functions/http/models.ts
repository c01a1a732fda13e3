import { randomUUID } from "node:crypto";
import type { HttpHandler } from "@azure/functions";
import { accountEndpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { nextLink } from "../../shared/http/request.js";
import { DEFAULT_PAGE_SIZE } from "../../shared/schemas/common.js";
import { modelListQuery, modelRequest } from "../../shared/schemas/models.js";
import { modelView } from "../../shared/views.js";
import { Errors } from "../../shared/errors.js";
import { modelDocument } from "../../shared/ingest/model-document.js";
import type { EndpointDeps } from "../../shared/http/endpoint.js";
import type { ModelDocument } from "../../shared/store/documents.js";
import type { Page } from "../../shared/store/pagination.js";

/** What the model endpoints use; the Cosmos ModelRepository is one implementation. */
export interface ModelEndpointDeps extends EndpointDeps {
  models: {
    /** Stores the document `build` makes for the next version of `name`. */
    register(pk: string, build: (version: number) => ModelDocument, name: string): Promise<ModelDocument>;
    get(pk: string, id: string): Promise<ModelDocument | undefined>;
    list(
      pk: string,
      filters: { name?: string; tag?: string },
      pageSize: number,
      skipToken: string | undefined,
    ): Promise<Page<ModelDocument>>;
  };
}

type Deps = () => Promise<ModelEndpointDeps>;

/** 1 `POST {account}/models`: registers a model as the next version of its name. */
export const makeRegisterModel = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "write",
    body: modelRequest,
    run: async ({ deps, pk, body }) => {
      const id = randomUUID();
      const createdAt = new Date().toISOString();
      const model = await deps.models.register(pk, (version) => modelDocument(id, pk, body, version, createdAt), body.name);
      return json(200, modelView(model));
    },
  });

/** 2 `GET {account}/models`: filters `name`, `tag`; newest first. */
export const makeListModels = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    query: modelListQuery,
    run: async ({ request, deps, pk, query }) => {
      const page = await deps.models.list(pk, { name: query.name, tag: query.tag }, query.count ?? DEFAULT_PAGE_SIZE, query.$skipToken);
      const link = nextLink(request, page.nextSkipToken);
      return json(200, { value: page.items.map(modelView), ...(link ? { nextLink: link } : {}) });
    },
  });

/** 3 `GET {account}/models/{id}`. */
export const makeGetModel = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ request, deps, pk }) => {
      const id = request.params.id ?? "";
      const model = await deps.models.get(pk, id);
      if (!model) throw Errors.modelNotFound(id);
      return json(200, modelView(model));
    },
  });
