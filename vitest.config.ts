import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Root test files that take many seconds (most wait on child processes), slowest first. Started
 * before everything else so that two workers finish together instead of one of them running a
 * 45-second file alone at the end; the shorter files fill the gaps.
 */
const SLOW_FIRST = [
  "test/launcher.test.ts",
  "test/examples.test.ts",
  "test/interrupt.test.ts",
  "test/long-sequences.test.ts",
  "test/rnn-laws.test.ts",
  "test/char-rnn.test.ts",
  "test/readme-types.test.ts",
  "test/determinism.test.ts",
  "test/architecture.test.ts",
  "test/examples-workers.test.ts",
];

/** Vitest's order (failed, then longest when it has timings), with the known slow files first. */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i, r: rank(spec) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.spec);
  }
}

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core CI machine,
    // with the other core mostly idle while tests wait on child processes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      "packages/*",
      {
        // The playground's Node tests (sessions, weights, layout); its browser test is `pnpm test:e2e`.
        test: {
          name: "playground",
          root: "examples/playground",
          include: ["test/**/*.test.ts"],
          setupFiles: ["../../test/seed.ts"],
          testTimeout: 60_000,
        },
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
