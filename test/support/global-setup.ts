import type { TestProject } from "vitest/node";
import { startLocalStack, type LocalStack } from "./local-stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    stack: { apiBaseUrl: string; dataDir: string; cosmosEndpoint: string };
  }
}

let stack: LocalStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  stack = await startLocalStack();
  project.provide("stack", {
    apiBaseUrl: stack.apiBaseUrl,
    dataDir: stack.dataDir,
    cosmosEndpoint: `http://127.0.0.1:${stack.ports.cosmosPort}/`,
  });
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
