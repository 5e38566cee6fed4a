import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "@rewind/workers", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
