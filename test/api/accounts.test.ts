import { beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { ApiClient, DEFAULT_ACCOUNT, LOCAL_USER, createAccount, modelBody, readAllPages } from "../support/api-client.js";
import { resourcesContainer, sharedStack } from "../support/shared-stack.js";
import { dataPartitionAt } from "../../shared/store/account-repository.js";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { OpenAPIV3_1 } from "openapi-types";

let api: ApiClient;
let stack: Awaited<ReturnType<typeof sharedStack>>;
const unique = () => randomUUID().slice(0, 8);

beforeAll(async () => {
  stack = await sharedStack();
  api = stack.owner;
});

describe("accounts", () => {
  it("has the local default account from the first start, owned by the local user", async () => {
    const res = await api.get(DEFAULT_ACCOUNT);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: `/${DEFAULT_ACCOUNT}`, name: "default", resourceGroupName: "local", createdBy: LOCAL_USER });
    const roles = await api.get(`${DEFAULT_ACCOUNT}/roleAssignments`);
    expect(roles.body.value).toEqual([expect.objectContaining({ principalId: LOCAL_USER, role: "Owner" })]);
  });

  it("points at the API's OpenAPI description, which anyone may read and which validates", async () => {
    const location = (await api.get(DEFAULT_ACCOUNT)).body.modelManagementSwaggerLocation as string;
    expect(location).toBe(`${stack.apiBaseUrl}/openapi.json`);
    const res = await fetch(location);
    expect(res.status).toBe(200);
    const document = (await res.json()) as OpenAPIV3_1.Document;
    expect(document.servers).toEqual([{ url: stack.apiBaseUrl }]);
    const result = await validate(document);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("creates an account (201, creator Owner), updates it (200), and reads it", async () => {
    const creator = api.as(await stack.token(`creator-${unique()}`));
    const path = `subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-${unique()}/accounts/acct`;
    const created = await creator.put(path, { location: "westeurope", description: "first", tags: { team: "ml" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "acct", location: "westeurope", description: "first", tags: { team: "ml" } });
    const roles = await creator.get(`${path}/roleAssignments`);
    expect(roles.body.value).toHaveLength(1);
    expect(roles.body.value[0]!.role).toBe("Owner");
    const updated = await creator.put(path, { description: "second" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ location: "westeurope", description: "second", tags: {} });
    expect((await creator.get(path)).body.description).toBe("second");
  });

  it("answers 409 AccountAlreadyExists to a PUT by a principal with no role on the existing account", async () => {
    const path = await createAccount(api, `taken-${unique()}`);
    const stranger = api.as(await stack.token(`stranger-${unique()}`));
    const res = await stranger.put(path, {});
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("AccountAlreadyExists");
    expect((await api.get(path)).body.description).toBeUndefined();
  });

  it("lists the accounts of a resource group the caller has a role on, across pages", async () => {
    const rg = `rg-list-${unique()}`;
    const me = api.as(await stack.token(`lister-${unique()}`));
    const other = api.as(await stack.token(`other-${unique()}`));
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      const path = `subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${rg}/accounts/mine-${i}`;
      expect((await me.put(path, {})).status).toBe(201);
      mine.push(`mine-${i}`);
    }
    expect((await other.put(`subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${rg}/accounts/theirs`, {})).status).toBe(
      201,
    );
    const { items, pages } = await readAllPages(me, `subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/${rg}/accounts`, {
      count: "2",
    });
    expect(items.map((a) => a.name)).toEqual(mine);
    expect(pages).toBe(3);
  });

  it("manages role assignments: add, change, list, remove, and never loses the last Owner", async () => {
    const path = await createAccount(api, `roles-${unique()}`);
    const bob = `bob-${unique()}`;
    const add = await api.put(`${path}/roleAssignments/${bob}`, { role: "Reader" });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ principalId: bob, role: "Reader" });
    const change = await api.put(`${path}/roleAssignments/${bob}`, { role: "Owner" });
    expect(change.status).toBe(200);
    expect(change.body.role).toBe("Owner");
    const list = await api.get(`${path}/roleAssignments`);
    expect(list.body.value.map((r: { principalId: string; role: string }) => `${r.principalId}:${r.role}`).sort()).toEqual(
      [`${LOCAL_USER}:Owner`, `${bob}:Owner`].sort(),
    );
    expect((await api.delete(`${path}/roleAssignments/${bob}`)).status).toBe(200);
    expect((await api.delete(`${path}/roleAssignments/${bob}`)).status).toBe(204);
    const demote = await api.put(`${path}/roleAssignments/${LOCAL_USER}`, { role: "Reader" });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe("LastOwner");
    const remove = await api.delete(`${path}/roleAssignments/${LOCAL_USER}`);
    expect(remove.status).toBe(409);
    expect(remove.body.code).toBe("LastOwner");
    const bad = await api.put(`${path}/roleAssignments/${bob}`, { role: "Admin" });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]!.code).toBe("InvalidEnumValue");
  });

  it("deletes an account with everything in it; a new account of that name starts empty", async () => {
    const name = `gone-${unique()}`;
    const path = await createAccount(api, name);
    expect((await api.post(`${path}/models`, modelBody("m"))).status).toBe(200);
    const del = await api.delete(path);
    expect(del.status).toBe(200);
    const get = await api.get(path);
    expect(get.status).toBe(404);
    expect(get.body.code).toBe("AccountNotFound");
    expect((await api.get(`${path}/models`)).status).toBe(404);
    await createAccount(api, name);
    const models = await api.get(`${path}/models`);
    expect(models.body.value).toEqual([]);
  });

  it("refuses to delete an account that still has services (409) and changes nothing", async () => {
    const path = await createAccount(api, `busy-${unique()}`);
    // Services arrive with the services endpoints; the store's shape of one is enough here.
    const container = resourcesContainer(stack.cosmosEndpoint);
    await container.items.create({ id: randomUUID(), pk: await dataPartitionAt(container, path), kind: "service", name: "svc" });
    const del = await api.delete(path);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe("AccountHasServices");
    expect((await api.get(path)).status).toBe(200);
  });

  it("answers 404 for an account that does not exist, and 400 for a malformed account path", async () => {
    const missing = await api.get(`subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/nowhere/accounts/none-${unique()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("AccountNotFound");
    const bad = await api.put(`subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg./accounts/-bad`, {});
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("InvalidPathParameter");
    expect(bad.body.details).toHaveLength(2);
  });
});
