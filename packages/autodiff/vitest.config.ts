import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "@rewind/autodiff",
    include: ["test/**/*.test.ts"],
    setupFiles: ["../../test/seed.ts"],
    testTimeout: 30_000,
  },
});
