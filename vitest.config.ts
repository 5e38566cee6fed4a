import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "packages/*",
      {
        // The playground's Node tests (sessions, weights, layout); its browser test is `pnpm test:e2e`.
        test: { name: "playground", root: "examples/playground", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        test: {
          name: "root",
          include: ["test/**/*.test.ts"],
          setupFiles: ["test/setup.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
