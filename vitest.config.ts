import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One local stack (Azurite, the durable Cosmos emulator, the Functions host) for the suites
    // that only need an API; suites that crash or restart a stack start their own.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
