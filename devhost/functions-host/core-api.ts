import Module from "node:module";
import type { FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel, RpcLogLevel } from "./core-types.js";

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  /** The trigger binding: the one whose type ends in "Trigger" (names are generated). */
  trigger: { name: string; type: string; options: Record<string, unknown> };
}

export type HostLog = (level: RpcLogLevel, category: string, msg: string) => void;

/** What the app registered through `@azure/functions`: functions, hooks, the programming model. */
export class FunctionRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, Set<HookCallback>>();
  programmingModel: ProgrammingModel | undefined;

  constructor(readonly log: HostLog) {}

  hooksOf(name: string): HookCallback[] {
    return [...(this.hooks.get(name) ?? [])];
  }

  /** The object the app's `require('@azure/functions-core')` receives. */
  coreApi(): Record<string, unknown> {
    return {
      version: "3.10.1",
      hostVersion: "4.1037.0",
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => {
        if (this.functions.has(metadata.name)) {
          throw new Error(`A function named "${metadata.name}" is already registered.`);
        }
        const entry = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(String(b.type)));
        if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
        const [name, binding] = entry;
        this.functions.set(metadata.name, { metadata, callback, trigger: { name, type: String(binding.type), options: binding } });
        return { dispose: () => this.functions.delete(metadata.name) };
      },
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
      },
      getProgrammingModel: () => this.programmingModel,
      registerHook: (name: string, callback: HookCallback) => {
        const set = this.hooks.get(name) ?? new Set<HookCallback>();
        set.add(callback);
        this.hooks.set(name, set);
        return { dispose: () => set.delete(callback) };
      },
      log: (level: RpcLogLevel, category: string, msg: string) => this.log(level, category, msg),
    };
  }
}

/**
 * Makes `require('@azure/functions-core')` resolve to `api`, as the real Node worker does
 * (Azure/azure-functions-nodejs-worker, setupCoreModule.ts), so the app's unmodified
 * `@azure/functions` registers its functions with this host.
 */
export function installCoreModule(api: Record<string, unknown>): void {
  const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const original = loader._load;
  loader._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
    if (request === "@azure/functions-core") return api;
    return original.call(this, request, parent, isMain);
  };
}
