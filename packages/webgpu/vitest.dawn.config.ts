/**
 * @file The browser tests run in Node on Dawn (`pnpm test:dawn`, through scripts/dawn.mjs, which
 * finds a Vulkan driver and says why when there is none): the same lowerings, laws and training
 * steps against the CPU jit, on the WebGPU implementation a Node program uses. The device half of
 * the package's public-API fuzz suite (test/fuzz/webgpu.dawn.ts at the repository root) runs here
 * too: it needs a device, which the root `pnpm test` has not.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "@rewind/webgpu (Dawn)",
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["test/browser/**/*.browser.ts", "../../test/fuzz/webgpu.dawn.ts"],
    setupFiles: ["test/dawn/setup.ts"],
    testTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: {
      json: fileURLToPath(new URL("../../node_modules/.cache/vitest-dawn-results.json", import.meta.url)),
    },
  },
});
