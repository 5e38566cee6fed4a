import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "@rewind/workers",
    include: ["test/**/*.test.ts"],
    setupFiles: ["../../test/seed.ts"],
    testTimeout: 60_000,
  },
});
