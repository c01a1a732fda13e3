/**
 * The shapes exchanged between `@azure/functions` and the module `@azure/functions-core` that
 * the real Node worker provides (Azure/azure-functions-nodejs-library, types-core). Only the
 * members the library uses are typed.
 */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: RpcHttpData;
  int?: number;
  double?: number;
}

export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: RpcTypedData | null;
  params?: Record<string, string>;
  query?: Record<string, string>;
  statusCode?: string;
  cookies?: RpcHttpCookie[];
}

export interface RpcHttpCookie {
  name?: string;
  value?: string;
  domain?: { value?: string } | null;
  path?: { value?: string } | null;
  expires?: { value?: { seconds?: number } } | null;
  secure?: { value?: boolean } | null;
  httpOnly?: { value?: boolean } | null;
  sameSite?: string | number;
  maxAge?: { value?: number } | null;
}

interface RpcBindingInfo {
  type?: string;
  direction?: "in" | "out" | "inout";
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RpcInvocationResponse {
  invocationId?: string;
  outputData?: { name?: string; data?: RpcTypedData | null }[];
  returnValue?: RpcTypedData | null;
}

export type RpcLogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";

export interface CoreInvocationContext {
  invocationId: string;
  request: {
    invocationId: string;
    functionId: string;
    inputData: { name: string; data: RpcTypedData }[];
    triggerMetadata: Record<string, RpcTypedData>;
    retryContext?: unknown;
  };
  metadata: FunctionMetadata;
  state?: string;
  log(level: RpcLogLevel, category: "user" | "system", msg: string): void;
}

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel;
}

export type HookCallback = (context: Record<string, unknown>) => unknown;
