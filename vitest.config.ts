import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["*/src/**/*.test.ts", "*/test/**/*.test.ts"],
    // web/: unit tests of the app's logic (node) and the Chromium e2e run (web/test/e2e.test.ts).
    // Fault and attack scenarios are the reliability suite (chaos/vitest.config.ts, `npm run test:chaos`).
    exclude: ["**/node_modules/**", "web/dist/**", "**/*.faults.test.ts", "**/*.security.test.ts"],
    globalSetup: ["./testkit/src/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: files run in parallel, each with its own database and bucket.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
