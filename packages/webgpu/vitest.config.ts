import { defineProject } from "vitest/config";

// The Node tests (WGSL text, the lowering table, the errors without WebGPU). The browser tests
// (test/browser/*.browser.ts) run in headless Chromium through vitest.browser.config.ts.
export default defineProject({
  test: { name: "@rewind/webgpu", include: ["test/**/*.test.ts"], setupFiles: ["../../test/seed.ts"] },
});
