import type { z } from "zod";

/** Who may call an endpoint (the roles are an account's; see auth/roles.ts). */
export type Needs = "nothing" | "a token" | "Reader" | "Contributor" | "Owner";

/** One answer an endpoint gives: what it means, its body, and the headers that matter. */
export interface AnswerDescription {
  description: string;
  body?: z.ZodType;
  headers?: Record<string, string>;
}

/**
 * An endpoint as its handler serves it: method, route (under the host's `api` prefix), who may
 * call it, the zod schemas of its query and body (the very ones the handler parses with), and
 * its answers. The functions are registered from these descriptions, and the OpenAPI document is
 * generated from them, so neither can drift from the other.
 */
export interface EndpointDescription {
  method: "GET" | "POST" | "PUT" | "DELETE";
  route: string;
  summary: string;
  needs: Needs;
  /** Path parameters other than the account's three, by name. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  answers: Record<number, AnswerDescription>;
}
