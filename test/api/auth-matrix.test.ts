import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { ApiClient, createAccount, manifestBody, modelBody } from "../support/api-client.js";
import { sharedStack } from "../support/shared-stack.js";
import { badTokens } from "../support/crafted-tokens.js";

type Access = "read" | "write" | "manage";
interface Endpoint {
  name: string;
  method: string;
  path: (account: string) => string;
  body?: () => unknown;
  access: Access;
}

let stack: Awaited<ReturnType<typeof sharedStack>>;
let account: string;
let modelId: string;
let manifestId: string;
let endpoints: Endpoint[];
const clients: Record<string, ApiClient> = {};

beforeAll(async () => {
  stack = await sharedStack();
  account = await createAccount(stack.owner, `auth-${randomUUID().slice(0, 8)}`);
  modelId = (await stack.owner.post(`${account}/models`, modelBody("m"))).body.id;
  manifestId = (await stack.owner.post(`${account}/manifests`, manifestBody("mf", [modelId]))).body.id;
  for (const role of ["Reader", "Contributor"]) {
    const principal = `${role.toLowerCase()}-${randomUUID().slice(0, 8)}`;
    expect((await stack.owner.put(`${account}/roleAssignments/${principal}`, { role })).status).toBe(201);
    clients[role] = stack.owner.as(await stack.token(principal));
  }
  clients.Owner = stack.owner;
  clients.none = stack.owner.as(await stack.token(`nobody-${randomUUID().slice(0, 8)}`));
  endpoints = [
    { name: "getAccount", method: "GET", path: (a) => a, access: "read" },
    { name: "putAccount", method: "PUT", path: (a) => a, body: () => ({ description: "matrix" }), access: "write" },
    { name: "listRoleAssignments", method: "GET", path: (a) => `${a}/roleAssignments`, access: "read" },
    {
      name: "putRoleAssignment",
      method: "PUT",
      path: (a) => `${a}/roleAssignments/extra-principal`,
      body: () => ({ role: "Reader" }),
      access: "manage",
    },
    { name: "deleteRoleAssignment", method: "DELETE", path: (a) => `${a}/roleAssignments/extra-principal`, access: "manage" },
    { name: "registerModel", method: "POST", path: (a) => `${a}/models`, body: () => modelBody("matrix"), access: "write" },
    { name: "listModels", method: "GET", path: (a) => `${a}/models`, access: "read" },
    { name: "getModel", method: "GET", path: (a) => `${a}/models/${modelId}`, access: "read" },
    {
      name: "createManifest",
      method: "POST",
      path: (a) => `${a}/manifests`,
      body: () => manifestBody("matrix", [modelId]),
      access: "write",
    },
    { name: "listManifests", method: "GET", path: (a) => `${a}/manifests`, access: "read" },
    { name: "getManifest", method: "GET", path: (a) => `${a}/manifests/${manifestId}`, access: "read" },
    {
      name: "createImage",
      method: "POST",
      path: (a) => `${a}/images`,
      body: () => ({ name: "matrix", imageType: "Docker", computeResourceId: "local", manifestId }),
      access: "write",
    },
    { name: "listImages", method: "GET", path: (a) => `${a}/images`, access: "read" },
    { name: "getImage", method: "GET", path: (a) => `${a}/images/${randomUUID()}`, access: "read" },
    { name: "getOperation", method: "GET", path: (a) => `${a}/operations/${randomUUID()}`, access: "read" },
    {
      name: "createService",
      method: "POST",
      path: (a) => `${a}/services`,
      body: () => ({ name: "matrix", imageId: randomUUID(), computeResource: { id: "local" } }),
      access: "write",
    },
    { name: "listServices", method: "GET", path: (a) => `${a}/services`, access: "read" },
    { name: "getService", method: "GET", path: (a) => `${a}/services/${randomUUID()}`, access: "read" },
    {
      name: "updateService",
      method: "PUT",
      path: (a) => `${a}/services/${randomUUID()}`,
      body: () => ({ numReplicas: 1 }),
      access: "write",
    },
    { name: "deleteService", method: "DELETE", path: (a) => `${a}/services/${randomUUID()}`, access: "write" },
    { name: "getServiceKeys", method: "GET", path: (a) => `${a}/services/${randomUUID()}/keys`, access: "write" },
    {
      name: "regenerateServiceKey",
      method: "POST",
      path: (a) => `${a}/services/${randomUUID()}/keys`,
      body: () => ({ keyType: "Primary" }),
      access: "write",
    },
    {
      name: "regenerateServiceKeys",
      method: "POST",
      path: (a) => `${a}/services/${randomUUID()}/regenerateKeys`,
      body: () => ({ keyType: "Primary" }),
      access: "write",
    },
    { name: "listDeployments", method: "GET", path: (a) => `${a}/deployments`, access: "read" },
    { name: "getDeployment", method: "GET", path: (a) => `${a}/deployments/${randomUUID()}`, access: "read" },
    { name: "deleteAccount", method: "DELETE", path: (a) => a, access: "manage" },
  ];
});

const rank = { none: -1, Reader: 0, Contributor: 1, Owner: 2 } as const;
const needs = { read: 0, write: 1, manage: 2 } as const;

describe("authentication", () => {
  it("answers 401 with WWW-Authenticate: Bearer to every bad token on every endpoint", async () => {
    const tokens = await badTokens(stack.dataDir);
    const all = [
      ...endpoints.map((e) => ({ name: e.name, method: e.method, path: e.path(account), body: e.body?.() })),
      {
        name: "listAccounts",
        method: "GET",
        path: "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tests/accounts",
        body: undefined,
      },
      {
        name: "createAccount",
        method: "PUT",
        path: "subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tests/accounts/new-one",
        body: {},
      },
    ];
    for (const [why, header] of Object.entries(tokens)) {
      for (const e of all) {
        const res = await stack.anonymous.request(e.method, e.path, { body: e.body, headers: header ? { authorization: header } : {} });
        expect(res.status, `${e.name} with ${why}`).toBe(401);
        expect(res.headers.get("www-authenticate"), `${e.name} with ${why}`).toMatch(/^Bearer realm=/);
        expect(res.body).toMatchObject({ code: "Unauthorized", statusCode: 401 });
      }
    }
    expect((await stack.owner.get("subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tests/accounts/new-one")).status).toBe(
      404,
    );
  });

  it("serves GET /api/health without a token, and nothing else", async () => {
    const res = await stack.anonymous.request("GET", "health", { apiVersion: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });
});

describe("authorisation by role", () => {
  for (const role of ["none", "Reader", "Contributor", "Owner"] as const) {
    it(`gives a principal with ${role === "none" ? "no role" : `the ${role} role`} exactly its rights`, async () => {
      for (const e of endpoints) {
        // The Owner's success at deleting is checked on an account of its own below.
        if (role === "Owner" && e.name === "deleteAccount") continue;
        const res = await clients[role]!.request(e.method, e.path(account), { body: e.body?.() });
        const label = `${role} ${e.name}`;
        if (role === "none") {
          if (e.name === "putAccount") {
            expect(res.status, label).toBe(409);
            expect(res.body.code, label).toBe("AccountAlreadyExists");
          } else {
            expect(res.status, label).toBe(404);
            expect(res.body.code, label).toBe("AccountNotFound");
          }
        } else if (rank[role] >= needs[e.access]) {
          // Allowed: past authentication and authorisation (lookups of unknown ids may still be a 404 of their own, or a 400).
          expect([401, 403], `${label}: ${res.text}`).not.toContain(res.status);
          expect(res.body?.code, `${label}: ${res.text}`).not.toBe("AccountNotFound");
          expect(res.status, `${label}: ${res.text}`).toBeLessThan(500);
        } else {
          expect(res.status, label).toBe(403);
          expect(res.body.code, label).toBe("AuthorizationFailed");
        }
      }
    });
  }

  it("lets an Owner delete an account, and a principal with no role not even see it in lists", async () => {
    const path = await createAccount(stack.owner, `owned-${randomUUID().slice(0, 8)}`);
    const list = await clients.none!.get("subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tests/accounts", {
      count: "1000",
    });
    expect(list.body.value.map((a: { id: string }) => a.id)).not.toContain(`/${path}`);
    expect((await stack.owner.delete(path)).status).toBe(200);
  });
});
