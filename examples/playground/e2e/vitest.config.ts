/**
 * @file The playground's end-to-end project (`pnpm test:e2e`): the test in e2e/ builds the page,
 * serves it on localhost and drives it in headless Chromium, and so is kept out of the ordinary
 * `pnpm test` (which runs the playground's Node tests in test/ as the "playground" project). The
 * JSON report goes where .ci/run's summary reads it.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  test: {
    root,
    include: ["e2e/**/*.e2e.ts"],
    // One browser, one page, driven step by step: the tests of the file run in order.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: {
      json: fileURLToPath(new URL("../../../node_modules/.cache/vitest-e2e-results.json", import.meta.url)),
    },
  },
});
