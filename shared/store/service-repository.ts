import { createHash } from "node:crypto";
import type { Container, JSONObject, OperationInput } from "@azure/cosmos";
import type { DeploymentDocument, OperationDocument, ServiceDocument, ServiceNameClaim, StoredDocument } from "./documents.js";
import type { Page } from "./pagination.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import type { WithEtag } from "./documents.js";
import { readOfKind, replaceIfUnchanged, runBatch } from "./document-io.js";
import type { ServiceFilters } from "../schemas/services.js";

const claimIdOf = (name: string) => `service-name-${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;

const withoutEtag = <T extends object>(doc: T): T => {
  const { _etag, ...rest } = doc as T & { _etag?: string };
  void _etag;
  return rest as T;
};

const create = (pk: string, doc: StoredDocument): OperationInput => ({
  operationType: "Create",
  partitionKey: pk,
  resourceBody: doc as unknown as JSONObject,
});

export class ServiceRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  /**
   * Creates a service with its name claim, first deployment and operation in one batch.
   * False when the name is taken in the account (the claim exists).
   */
  async create(service: ServiceDocument, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean> {
    const claim: ServiceNameClaim = { id: claimIdOf(service.name), pk: service.pk, kind: "service-name", serviceId: service.id };
    const response = await runBatch(
      this.container,
      [create(service.pk, claim), create(service.pk, service), create(service.pk, deployment), create(service.pk, operation)],
      service.pk,
    );
    const results = response.result ?? [];
    if (results.every((r) => r.statusCode >= 200 && r.statusCode < 300) && results.length === 4) return true;
    if (results[0]?.statusCode === 409) return false;
    throw new Error(
      `Creating service ${service.name} failed: batch answered ${results.map((r) => r.statusCode).join(", ") || response.code}.`,
    );
  }

  /** Replaces the service (if unchanged since read) and creates the update's deployment and operation, together. */
  async startUpdate(service: WithEtag<ServiceDocument>, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean> {
    const { _etag, ...body } = service;
    const response = await runBatch(
      this.container,
      [
        { operationType: "Replace", id: service.id, partitionKey: service.pk, ifMatch: _etag, resourceBody: body as unknown as JSONObject },
        create(service.pk, deployment),
        create(service.pk, operation),
      ],
      service.pk,
    );
    const results = response.result ?? [];
    if (results.length === 3 && results.every((r) => r.statusCode >= 200 && r.statusCode < 300)) return true;
    if (results[0]?.statusCode === 412) return false;
    throw new Error(
      `Updating service ${service.name} failed: batch answered ${results.map((r) => r.statusCode).join(", ") || response.code}.`,
    );
  }

  get(pk: string, id: string): Promise<WithEtag<ServiceDocument> | undefined> {
    return readOfKind<ServiceDocument>(this.container, pk, id, "service");
  }

  replace(service: WithEtag<ServiceDocument>): Promise<WithEtag<ServiceDocument> | undefined> {
    return replaceIfUnchanged(this.container, service);
  }

  /**
   * Removes the service and its name claim; its deployments stay, as history, the one it ran
   * expired now.
   */
  async delete(service: ServiceDocument): Promise<void> {
    const current = service.currentDeploymentId ? await this.getDeployment(service.pk, service.currentDeploymentId) : undefined;
    if (current && !current.expiredAt)
      await this.container.item(current.id, current.pk).replace({ ...withoutEtag(current), expiredAt: new Date().toISOString() });
    for (const id of [service.id, claimIdOf(service.name)]) {
      try {
        await this.container.item(id, service.pk).delete();
      } catch (err) {
        if ((err as { code?: unknown }).code !== 404) throw err;
      }
    }
  }

  /** Newest first, with every filter of the 2017 API. */
  list(pk: string, filters: ServiceFilters, pageSize: number, skipToken: string | undefined): Promise<Page<ServiceDocument>> {
    return filteredList<ServiceDocument>(
      this.pages,
      pk,
      "service",
      [
        { sql: "c.name = @serviceName", param: "@serviceName", value: filters.serviceName },
        { sql: "ARRAY_CONTAINS(c.modelIds, @modelId)", param: "@modelId", value: filters.modelId },
        { sql: "ARRAY_CONTAINS(c.modelNames, @modelName)", param: "@modelName", value: filters.modelName },
        { sql: "c.manifestId = @manifestId", param: "@manifestId", value: filters.manifestId },
        { sql: "c.manifestName = @manifestName", param: "@manifestName", value: filters.manifestName },
        { sql: "c.imageId = @imageId", param: "@imageId", value: filters.imageId },
        { sql: "c.computeResource.id = @computeResourceId", param: "@computeResourceId", value: filters.computeResourceId },
      ],
      "c.createdAt DESC",
      { pageSize, skipToken },
    );
  }

  getDeployment(pk: string, id: string): Promise<WithEtag<DeploymentDocument> | undefined> {
    return readOfKind<DeploymentDocument>(this.container, pk, id, "deployment");
  }

  /** Every deployment of the account (or of one service), newest first: DeploymentList is a plain array. */
  async listDeployments(pk: string, serviceId: string | undefined): Promise<DeploymentDocument[]> {
    const where = ["c.pk = @pk", "c.kind = 'deployment'"];
    const parameters = [{ name: "@pk", value: pk }];
    if (serviceId !== undefined) {
      where.push("c.serviceId = @serviceId");
      parameters.push({ name: "@serviceId", value: serviceId });
    }
    const { resources } = await this.container.items
      .query<DeploymentDocument>(
        { query: `SELECT * FROM c WHERE ${where.join(" AND ")} ORDER BY c.createdAt DESC`, parameters },
        { partitionKey: pk },
      )
      .fetchAll();
    return resources;
  }
}
