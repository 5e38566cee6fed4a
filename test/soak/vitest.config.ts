/**
 * @file `pnpm test:soak`: the interruption test (test/interrupt.test.ts) with 500 SIGKILLs instead
 * of 30 (REWIND_KILLS overrides the count, REWIND_KILL_SEED the schedule). Not part of `pnpm test`:
 * it takes ~5–10 minutes on the 2-core machine.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/interrupt.test.ts"],
    setupFiles: ["test/setup.ts"],
    env: { REWIND_KILLS: process.env["REWIND_KILLS"] ?? "500" },
    testTimeout: 60_000,
  },
});
