import { createHash } from "node:crypto";
import type { Container, JSONObject, OperationInput } from "@azure/cosmos";
import type {
  DeploymentDocument,
  ImageDocument,
  OperationDocument,
  ServiceDocument,
  ServiceNameClaim,
  StoredDocument,
} from "./documents.js";
import { Errors } from "../errors.js";
import { referencesTo, type Reference } from "./references.js";
import type { Page } from "./pagination.js";
import { filteredList } from "./filtered-list.js";
import type { Pages } from "./pagination.js";
import type { WithEtag } from "./documents.js";
import { batchAnswer, batchFailure, batchSucceeded, conditionalReplace, readOfKind, replaceIfUnchanged, runBatch } from "./document-io.js";
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

/** How often a write that refers to an image reads it again when it changed under the write. */
const REFERENCE_ATTEMPTS = 20;

export class ServiceRepository {
  constructor(
    private readonly container: Container,
    private readonly pages: Pages,
  ) {}

  /**
   * Creates a service with its name claim, first deployment and operation in one batch, its
   * image checked in the same write (see `touch`). False when the name is taken in the account
   * (the claim exists); ImageNotReady when the image went.
   */
  async create(service: ServiceDocument, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean> {
    const claim: ServiceNameClaim = { id: claimIdOf(service.name), pk: service.pk, kind: "service-name", serviceId: service.id };
    const creates = [claim, service, deployment, operation].map((d) => create(service.pk, d));
    for (let attempt = 0; attempt < REFERENCE_ATTEMPTS; attempt++) {
      const image = await this.#imageOf(service.pk, deployment.settings.imageId);
      const response = await runBatch(this.container, [...creates, conditionalReplace(image)], service.pk);
      if (batchSucceeded(response, creates.length + 1)) return true;
      const failed = batchFailure(response);
      if (failed.index === 0 && failed.status === 409) return false;
      if (failed.index === creates.length && (failed.status === 412 || failed.status === 404)) continue; // the image changed: read it again
      throw new Error(`Creating service ${service.name} failed: batch answered ${batchAnswer(response)}.`);
    }
    throw Errors.tooMuchContention(`image ${deployment.settings.imageId}`);
  }

  /**
   * Replaces the service (if unchanged since read) and creates the update's deployment and
   * operation, together, with the image it rolls out checked in the same write. False when the
   * service changed meanwhile.
   */
  async startUpdate(service: WithEtag<ServiceDocument>, deployment: DeploymentDocument, operation: OperationDocument): Promise<boolean> {
    for (let attempt = 0; attempt < REFERENCE_ATTEMPTS; attempt++) {
      const image = await this.#imageOf(service.pk, deployment.settings.imageId);
      const response = await runBatch(
        this.container,
        [conditionalReplace(service), create(service.pk, deployment), create(service.pk, operation), conditionalReplace(image)],
        service.pk,
      );
      if (batchSucceeded(response, 4)) return true;
      const failed = batchFailure(response);
      if (failed.index === 0 && failed.status === 412) return false;
      if (failed.index === 3 && (failed.status === 412 || failed.status === 404)) continue;
      throw new Error(`Updating service ${service.name} failed: batch answered ${batchAnswer(response)}.`);
    }
    throw Errors.tooMuchContention(`image ${deployment.settings.imageId}`);
  }

  async #imageOf(pk: string, imageId: string): Promise<WithEtag<ImageDocument>> {
    const image = await readOfKind<ImageDocument>(this.container, pk, imageId, "image");
    if (!image) throw Errors.imageNotReady(imageId, undefined);
    return image;
  }

  /** Services that run an image (a few, to name them). */
  usingImage(pk: string, imageId: string): Promise<Reference[]> {
    return referencesTo(this.container, pk, "service", "c.imageId = @id", imageId);
  }

  /** Deployments still rolling an image out (a few, to name them). */
  rollingOut(pk: string, imageId: string): Promise<Reference[]> {
    return referencesTo(this.container, pk, "deployment", "c.imageId = @id AND (c.status = 'NotStarted' OR c.status = 'Running')", imageId);
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
