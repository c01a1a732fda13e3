import type { ModelRequest } from "../schemas/models.js";
import type { ModelDocument } from "../store/documents.js";

/** The stored form of a model registration, as version `version` of its name. */
export function modelDocument(id: string, pk: string, request: ModelRequest, version: number, createdAt: string): ModelDocument {
  return {
    id,
    pk,
    kind: "model",
    name: request.name,
    version,
    ...(request.description !== undefined ? { description: request.description } : {}),
    ...(request.tags !== undefined ? { tags: request.tags } : {}),
    mimeType: request.mimeType,
    ...(request.unpack !== undefined ? { unpack: request.unpack } : {}),
    url: request.url,
    createdAt,
  };
}
