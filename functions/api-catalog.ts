import { z } from "zod";
import type { AnswerDescription, EndpointDescription } from "../shared/http/endpoint-description.js";
import * as R from "../shared/schemas/responses.js";
import { accountListQuery, accountRequest, principalIdParam, roleAssignmentRequest } from "../shared/schemas/accounts.js";
import { modelListQuery, modelRequest } from "../shared/schemas/models.js";
import { manifestListQuery, manifestRequest } from "../shared/schemas/manifests.js";
import { imageListQuery, imageRequest } from "../shared/schemas/images.js";
import {
  deploymentListQuery,
  regenerateKeyRequest,
  serviceCreateRequest,
  serviceListQuery,
  serviceUpdateRequest,
} from "../shared/schemas/services.js";
import { ACCOUNT_ROUTE, RESOURCE_GROUP_ROUTE } from "./routes.js";

const id = { id: z.string().describe("the resource's id") };
const ok = (description: string, body?: z.ZodType): AnswerDescription => ({ description, ...(body ? { body } : {}) });
const accepted = (what: string): AnswerDescription => ({
  description: `${what} accepted: follow the operation at Operation-Location (GET it until its state is Succeeded or Failed)`,
  headers: { "operation-location": "the absolute URL of the operation (AsyncOperationStatus)" },
});
const deleted = { 200: ok("deleted"), 204: ok("there was none") };
const inUse = (users: string): AnswerDescription => ({ description: `ResourceInUse: ${users}`, body: R.errorResponse });

/**
 * Every endpoint of the API (spec/api.md, and what this implementation adds), as its handler
 * serves it. functions/index.ts registers the functions from this table, and GET /api/openapi.json
 * describes it: one source for routes, schemas and answers.
 */
export const ENDPOINTS = {
  health: { method: "GET", route: "health", summary: "Whether the app is up", needs: "nothing", answers: { 200: ok("up", R.health) } },
  openApi: {
    method: "GET",
    route: "openapi.json",
    summary: "This description of the API (OpenAPI 3.1)",
    needs: "nothing",
    answers: { 200: ok("the OpenAPI document") },
  },
  putAccount: {
    method: "PUT",
    route: ACCOUNT_ROUTE,
    summary: "Create an account (you become its Owner) or update it",
    needs: "a token",
    body: accountRequest,
    answers: {
      200: ok("updated", R.account),
      201: ok("created", R.account),
      409: ok("AccountExists or AccountBeingDeleted", R.errorResponse),
    },
  },
  getAccount: {
    method: "GET",
    route: ACCOUNT_ROUTE,
    summary: "Show an account",
    needs: "Reader",
    answers: { 200: ok("the account", R.account) },
  },
  deleteAccount: {
    method: "DELETE",
    route: ACCOUNT_ROUTE,
    summary: "Delete an account and everything it holds (refused while it has services)",
    needs: "Owner",
    answers: { 200: ok("deleted (its storage may still be being released)"), 409: ok("AccountHasServices", R.errorResponse) },
  },
  listAccounts: {
    method: "GET",
    route: `${RESOURCE_GROUP_ROUTE}/accounts`,
    summary: "The accounts of a resource group you have a role on",
    needs: "a token",
    query: accountListQuery,
    answers: { 200: ok("a page of accounts", R.accountPage) },
  },
  listRoleAssignments: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/roleAssignments`,
    summary: "Who has which role on the account",
    needs: "Reader",
    answers: { 200: ok("the role assignments", R.roleAssignmentList) },
  },
  putRoleAssignment: {
    method: "PUT",
    route: `${ACCOUNT_ROUTE}/roleAssignments/{principalId}`,
    summary: "Give a principal a role",
    needs: "Owner",
    params: { principalId: principalIdParam },
    body: roleAssignmentRequest,
    answers: { 200: ok("changed", R.roleAssignment), 201: ok("given", R.roleAssignment), 409: ok("LastOwner", R.errorResponse) },
  },
  deleteRoleAssignment: {
    method: "DELETE",
    route: `${ACCOUNT_ROUTE}/roleAssignments/{principalId}`,
    summary: "Take a principal's role away",
    needs: "Owner",
    params: { principalId: principalIdParam },
    answers: { 200: ok("removed"), 204: ok("it had none"), 409: ok("LastOwner", R.errorResponse) },
  },
  registerModel: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/models`,
    summary: "Register a model: the next version of its name",
    needs: "Contributor",
    body: modelRequest,
    answers: { 200: ok("registered", R.model) },
  },
  listModels: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/models`,
    summary: "List models, newest first",
    needs: "Reader",
    query: modelListQuery,
    answers: { 200: ok("a page of models", R.modelPage) },
  },
  getModel: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/models/{id}`,
    summary: "Show a model",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the model", R.model) },
  },
  deleteModel: {
    method: "DELETE",
    route: `${ACCOUNT_ROUTE}/models/{id}`,
    summary: "Delete a model (refused while a manifest uses it)",
    needs: "Contributor",
    params: id,
    answers: { ...deleted, 409: inUse("manifests use it") },
  },
  createManifest: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/manifests`,
    summary: "Create a manifest: a driver, its assets and registered models",
    needs: "Contributor",
    body: manifestRequest,
    answers: { 200: ok("created", R.manifest) },
  },
  listManifests: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/manifests`,
    summary: "List manifests, newest first",
    needs: "Reader",
    query: manifestListQuery,
    answers: { 200: ok("a page of manifests", R.manifestPage) },
  },
  getManifest: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/manifests/{id}`,
    summary: "Show a manifest",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the manifest", R.manifest) },
  },
  deleteManifest: {
    method: "DELETE",
    route: `${ACCOUNT_ROUTE}/manifests/{id}`,
    summary: "Delete a manifest (refused while an image was made from it)",
    needs: "Contributor",
    params: id,
    answers: { ...deleted, 409: inUse("images were made from it") },
  },
  createImage: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/images`,
    summary: "Build a Docker image of a manifest",
    needs: "Contributor",
    body: imageRequest,
    answers: { 202: accepted("the build is") },
  },
  listImages: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/images`,
    summary: "List images, newest first",
    needs: "Reader",
    query: imageListQuery,
    answers: { 200: ok("a page of images", R.imagePage) },
  },
  getImage: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/images/{id}`,
    summary: "Show an image, its manifest embedded",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the image", R.image) },
  },
  deleteImage: {
    method: "DELETE",
    route: `${ACCOUNT_ROUTE}/images/{id}`,
    summary: "Delete an image (refused while it builds, a rollout rolls it out or a service runs it)",
    needs: "Contributor",
    params: id,
    answers: { ...deleted, 409: inUse("services, rollouts or its own build use it") },
  },
  getOperation: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/operations/{id}`,
    summary: "The state of an asynchronous operation",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the operation", R.asyncOperationStatus) },
  },
  createService: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/services`,
    summary: "Deploy an image as a real-time scoring service",
    needs: "Contributor",
    body: serviceCreateRequest,
    answers: { 202: accepted("the deployment is"), 409: ok("ServiceNameConflict", R.errorResponse) },
  },
  listServices: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/services`,
    summary: "List services, newest first",
    needs: "Reader",
    query: serviceListQuery,
    answers: { 200: ok("a page of services", R.servicePage) },
  },
  getService: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/services/{id}`,
    summary: "Show a service, with its image, manifest and models",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the service", R.service) },
  },
  updateService: {
    method: "PUT",
    route: `${ACCOUNT_ROUTE}/services/{id}`,
    summary: "Update a service (fields left out keep their value)",
    needs: "Contributor",
    params: id,
    body: serviceUpdateRequest,
    answers: { 202: accepted("the update is"), 409: ok("ServiceBusy: a rollout is under way", R.errorResponse) },
  },
  deleteService: {
    method: "DELETE",
    route: `${ACCOUNT_ROUTE}/services/{id}`,
    summary: "Delete a service: its replicas stop",
    needs: "Contributor",
    params: id,
    answers: deleted,
  },
  getServiceKeys: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/services/{id}/keys`,
    summary: "A service's scoring keys",
    needs: "Contributor",
    params: id,
    answers: { 200: ok("the keys", R.authKeys) },
  },
  regenerateServiceKey: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/services/{id}/keys`,
    summary: "Replace one of a service's keys",
    needs: "Contributor",
    params: id,
    body: regenerateKeyRequest,
    answers: { 200: ok("both keys, the named one new", R.authKeys) },
  },
  regenerateServiceKeys: {
    method: "POST",
    route: `${ACCOUNT_ROUTE}/services/{id}/regenerateKeys`,
    summary: "Replace one of a service's keys (the path the 2017 CLI called)",
    needs: "Contributor",
    params: id,
    body: regenerateKeyRequest,
    answers: { 200: ok("both keys, the named one new", R.authKeys) },
  },
  getServiceLogs: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/services/{id}/logs`,
    summary: "The last lines each replica printed (text)",
    needs: "Contributor",
    params: id,
    query: z.object({ tail: z.string().regex(/^\d+$/).optional().describe("lines per replica (1-5000, default 200)") }),
    answers: { 200: ok("text/plain: each replica's last lines") },
  },
  listDeployments: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/deployments`,
    summary: "The account's deployments (a plain array), newest first",
    needs: "Reader",
    query: deploymentListQuery,
    answers: { 200: ok("the deployments", R.deploymentList) },
  },
  getDeployment: {
    method: "GET",
    route: `${ACCOUNT_ROUTE}/deployments/{id}`,
    summary: "Show a deployment",
    needs: "Reader",
    params: id,
    answers: { 200: ok("the deployment", R.deployment) },
  },
} satisfies Record<string, EndpointDescription>;

export type EndpointName = keyof typeof ENDPOINTS;
