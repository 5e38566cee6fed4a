import { defineProject } from "vitest/config";

export default defineProject({
  // One module graph per worker instead of one per test file: this package's tests stub no globals
  // and switch no process-wide mode, so sharing the loaded modules changes nothing they check and
  // saves re-evaluating the libraries for every file.
  test: {
    isolate: false,
    name: "@rewind/rnn",
    include: ["test/**/*.test.ts"],
    setupFiles: ["../../test/seed.ts"],
    testTimeout: 60_000,
  },
});
