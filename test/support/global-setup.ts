import type { TestProject } from "vitest/node";
import { startLocalStack, type LocalStack } from "./local-stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    stack: { apiBaseUrl: string; dataDir: string };
  }
}

let stack: LocalStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  stack = await startLocalStack();
  project.provide("stack", { apiBaseUrl: stack.apiBaseUrl, dataDir: stack.dataDir });
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
