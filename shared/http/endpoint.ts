import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { z } from "zod";
import type { Principal, TokenValidator } from "../auth/token-validator.js";
import { allows, describeAccess, type Access, type Role } from "../auth/roles.js";
import { accountPath, dataPartitionOf, type AccountRef } from "../account-ref.js";
import { Errors } from "../errors.js";
import { accountParams } from "../schemas/common.js";
import type { StoredAccount } from "../store/account-repository.js";
import { errorToResponse } from "./responses.js";
import { parseParams, parseQuery, readJsonBody, requireApiVersion } from "./request.js";

/** What every authenticated endpoint needs: the token validator, and the accounts with their roles. */
export interface EndpointDeps {
  authenticate: TokenValidator;
  accounts: AccountReader;
}

/** Reads an account, with its role assignments. */
export interface AccountReader {
  get(path: string): Promise<StoredAccount | undefined>;
}

interface AuthenticatedRequest<D> {
  request: HttpRequest;
  context: InvocationContext;
  deps: D;
  principal: Principal;
}

interface AccountRequest<D, Q, B> extends AuthenticatedRequest<D> {
  ref: AccountRef;
  /** The account's path, `subscriptions/…/accounts/…`: what URLs and messages name. */
  path: string;
  /** The partition of the account's resources (its path and incarnation): what the store is asked. */
  pk: string;
  account: StoredAccount;
  role: Role;
  query: Q;
  body: B;
}

type DepsSource<D> = () => Promise<D>;

/** Runs a handler; whatever it throws becomes an ErrorResponse in one place. */
export function endpoint<D>(
  getDeps: DepsSource<D>,
  run: (request: HttpRequest, context: InvocationContext, deps: D) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    try {
      return await run(request, context, await getDeps());
    } catch (err) {
      return errorToResponse(err, context);
    }
  };
}

/** An endpoint for any signed-in principal: token, then api-version. */
export function authenticatedEndpoint<D extends EndpointDeps>(
  getDeps: DepsSource<D>,
  run: (req: AuthenticatedRequest<D>) => Promise<HttpResponseInit>,
): HttpHandler {
  return endpoint(getDeps, async (request, context, deps) => {
    const principal = await deps.authenticate(request.headers.get("authorization"));
    requireApiVersion(request);
    return run({ request, context, deps, principal });
  });
}

interface AccountEndpointSpec<D, QS extends z.ZodType | undefined, BS extends z.ZodType | undefined> {
  access: Access;
  query?: QS;
  body?: BS;
  run: (
    req: AccountRequest<D, QS extends z.ZodType ? z.output<QS> : undefined, BS extends z.ZodType ? z.output<BS> : undefined>,
  ) => Promise<HttpResponseInit>;
}

/**
 * An endpoint inside an account: token, api-version, path, then the caller's role on the
 * account (no role: 404, as if the account did not exist, so that account names do not leak;
 * a role too weak: 403), then query and body. Nothing is read from the body before the caller
 * is known to be allowed.
 */
export function accountEndpoint<
  D extends EndpointDeps,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(getDeps: DepsSource<D>, spec: AccountEndpointSpec<D, QS, BS>): HttpHandler {
  return authenticatedEndpoint(getDeps, async ({ request, context, deps, principal }) => {
    const ref = parseParams(accountParams, request.params);
    const { account, role } = await authorize(deps.accounts, ref, principal, spec.access);
    const query = (spec.query ? parseQuery(spec.query, request) : undefined) as QS extends z.ZodType ? z.output<QS> : undefined;
    const body = (spec.body ? await readJsonBody(spec.body, request) : undefined) as BS extends z.ZodType ? z.output<BS> : undefined;
    return spec.run({
      request,
      context,
      deps,
      principal,
      ref,
      path: accountPath(ref),
      pk: dataPartitionOf(account),
      account,
      role,
      query,
      body,
    });
  });
}

/** The caller's role on a ready account, or the error the caller may see. */
async function authorize(
  accounts: AccountReader,
  ref: AccountRef,
  principal: Principal,
  access: Access,
): Promise<{ account: StoredAccount; role: Role }> {
  const path = accountPath(ref);
  const account = await accounts.get(path);
  const role = account?.roleAssignments.find((r) => r.principalId === principal.id)?.role;
  if (!account || !role || account.state !== "Ready") throw Errors.accountNotFound(path);
  if (!allows(role, access)) throw Errors.forbidden(`This needs the ${describeAccess(access)} role on ${path}; you are ${role}.`);
  return { account, role };
}
