import type { AccountDocument, ManifestDocument, ModelDocument, RoleAssignment } from "./store/documents.js";

/** What the API shows of each stored document: the contract's fields, in its order, nothing internal. */

export function modelView(m: ModelDocument) {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.tags !== undefined ? { tags: m.tags } : {}),
    mimeType: m.mimeType,
    ...(m.unpack !== undefined ? { unpack: m.unpack } : {}),
    url: m.url,
    createdAt: m.createdAt,
  };
}

export function manifestView(m: ManifestDocument) {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    ...(m.description !== undefined ? { description: m.description } : {}),
    driverProgram: m.driverProgram,
    assets: m.assets,
    modelIds: m.modelIds,
    modelType: m.modelType,
    targetRuntime: m.targetRuntime,
    webserviceType: m.webserviceType,
    createdTime: m.createdTime,
  };
}

export function accountView(a: AccountDocument) {
  return {
    id: `/${a.pk}`,
    name: a.name,
    subscriptionId: a.subscriptionId,
    resourceGroupName: a.resourceGroupName,
    location: a.location,
    ...(a.description !== undefined ? { description: a.description } : {}),
    tags: a.tags ?? {},
    createdAt: a.createdAt,
    createdBy: a.createdBy,
  };
}

export function roleAssignmentView(r: RoleAssignment) {
  return { principalId: r.principalId, role: r.role, createdAt: r.createdAt };
}
