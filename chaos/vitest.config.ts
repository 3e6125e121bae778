import path from "node:path";
import { defineConfig } from "vitest/config";

// The reliability and security suite: every `*.faults.test.ts` and `*.security.test.ts` of the tree.
// One file at a time: fault scenarios kill processes and load the machine, and must not be measured
// against each other.
export default defineConfig({
  root: path.resolve(import.meta.dirname, ".."),
  test: {
    include: ["**/*.faults.test.ts", "**/*.security.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./testkit/src/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
