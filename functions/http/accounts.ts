import type { HttpHandler } from "@azure/functions";
import { accountEndpoint, authenticatedEndpoint, endpoint } from "../../shared/http/endpoint.js";
import { json } from "../../shared/http/responses.js";
import { swaggerLocation } from "./api-urls.js";
import { nextLink, parseParams, parseQuery, readJsonBody, requireApiVersion } from "../../shared/http/request.js";
import { accountParams, DEFAULT_PAGE_SIZE } from "../../shared/schemas/common.js";
import { accountListQuery, accountRequest, principalIdParam, roleAssignmentRequest } from "../../shared/schemas/accounts.js";
import { deleteAccount, putAccount, removeRole, roleOf, setRole } from "../../shared/account-service.js";
import { accountView, roleAssignmentView } from "../../shared/views.js";
import { accountPath, dataPartitionOf } from "../../shared/account-ref.js";
import { Errors } from "../../shared/errors.js";
import { z } from "zod";
import type { AccountStore } from "../../shared/account-service.js";
import type { OperationDocument } from "../../shared/store/documents.js";
import type { TokenValidator } from "../../shared/auth/token-validator.js";
import type { StoredAccount } from "../../shared/store/account-repository.js";
import type { Page } from "../../shared/store/pagination.js";

/** What the account endpoints use; the Cosmos AccountRepository is one implementation. */
export interface AccountEndpointDeps {
  authenticate: TokenValidator;
  accounts: AccountStore & {
    /** The ready accounts of a resource group that a principal has a role on. */
    listVisible(
      subscriptionId: string,
      resourceGroupName: string,
      principalId: string,
      pageSize: number,
      skipToken: string | undefined,
    ): Promise<Page<StoredAccount>>;
    /** How many documents of a kind a partition holds. */
    countOfKind(pk: string, kind: string): Promise<number>;
  };
  operations: {
    get(pk: string, id: string): Promise<OperationDocument | undefined>;
    runNow(op: OperationDocument, warn: (message: string) => void): Promise<void>;
  };
}

type Deps = () => Promise<AccountEndpointDeps>;

/** `PUT {account}`: creates the account (the caller becomes its Owner, 201) or updates it (200). */
export const makePutAccount = (deps: Deps): HttpHandler =>
  authenticatedEndpoint(deps, async ({ request, deps, principal }) => {
    const ref = parseParams(accountParams, request.params);
    const body = await readJsonBody(accountRequest, request);
    const { account, created } = await putAccount(deps.accounts, ref, principal, body);
    return json(created ? 201 : 200, accountView(account, swaggerLocation(request)));
  });

/** `GET {account}`. */
export const makeGetAccount = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, { access: "read", run: async ({ request, account }) => json(200, accountView(account, swaggerLocation(request))) });

/**
 * `DELETE {account}`: Owners only; refused while the account has services. The account is gone
 * for every caller once this answers 200; its purge runs at once, and should it not finish here
 * (the process dies, storage is down), the sweeper finishes it: until then the name stays taken
 * (409 AccountBeingDeleted).
 */
export const makeDeleteAccount = (deps: Deps): HttpHandler =>
  endpoint(deps, async (request, context, deps) => {
    const principal = await deps.authenticate(request.headers.get("authorization"));
    requireApiVersion(request);
    const ref = parseParams(accountParams, request.params);
    const path = accountPath(ref);
    // Not through authorize(): an account left Deleting by a crash must still be deletable.
    const account = await deps.accounts.get(path);
    const role = account && roleOf(account, principal.id);
    if (!account || !role) throw Errors.accountNotFound(path);
    if (role !== "Owner") throw Errors.forbidden(`Deleting ${path} needs the Owner role; you are ${role}.`);
    const purge = await deleteAccount(
      deps.accounts,
      deps.operations,
      account,
      await deps.accounts.countOfKind(dataPartitionOf(account), "service"),
    );
    await deps.operations.runNow(purge, (m) => context.warn(m));
    return { status: 200 };
  });

/** `GET subscriptions/{s}/resourceGroups/{rg}/accounts`: the accounts of the group the caller has a role on. */
export const makeListAccounts = (deps: Deps): HttpHandler =>
  authenticatedEndpoint(deps, async ({ request, deps, principal }) => {
    const { subscriptionId, resourceGroupName } = parseParams(
      accountParams.pick({ subscriptionId: true, resourceGroupName: true }),
      request.params,
    );
    const query = parseQuery(accountListQuery, request);
    const page = await deps.accounts.listVisible(
      subscriptionId,
      resourceGroupName,
      principal.id,
      query.count ?? DEFAULT_PAGE_SIZE,
      query.$skipToken,
    );
    const link = nextLink(request, page.nextSkipToken);
    const location = swaggerLocation(request);
    return json(200, { value: page.items.map((a) => accountView(a, location)), ...(link ? { nextLink: link } : {}) });
  });

/** `GET {account}/roleAssignments`: every member may see who else is. */
export const makeListRoleAssignments = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "read",
    run: async ({ account }) => json(200, { value: account.roleAssignments.map(roleAssignmentView) }),
  });

const principalParams = z.object({ principalId: principalIdParam });

/** `PUT {account}/roleAssignments/{principalId}` with `{role}`: Owners only. */
export const makePutRoleAssignment = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "manage",
    body: roleAssignmentRequest,
    run: async ({ request, deps, account, body }) => {
      const { principalId } = parseParams(principalParams, { principalId: request.params.principalId ?? "" });
      const { assignment, created } = await setRole(deps.accounts, account, principalId, body.role);
      return json(created ? 201 : 200, roleAssignmentView(assignment));
    },
  });

/** `DELETE {account}/roleAssignments/{principalId}`: Owners only; 204 when there was none. */
export const makeDeleteRoleAssignment = (deps: Deps): HttpHandler =>
  accountEndpoint(deps, {
    access: "manage",
    run: async ({ request, deps, account }) => {
      const { principalId } = parseParams(principalParams, { principalId: request.params.principalId ?? "" });
      return { status: (await removeRole(deps.accounts, account, principalId)) ? 200 : 204 };
    },
  });
