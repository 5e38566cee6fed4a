/**
 * @file Bytes allocated per call of a step, in steady state, measured in a child process.
 *
 * The child (`node --expose-gc --max-semi-space-size=… --import tsx script`) warms the step up,
 * collects garbage, then runs K steps and reads `process.memoryUsage()` before and after: with a
 * young generation larger than K steps allocate, no garbage collection runs inside that window,
 * so Δ(heapUsed + arrayBuffers) / K is what one step allocated (JavaScript objects on the heap,
 * typed-array memory outside it). A `PerformanceObserver` on "gc" entries checks that no
 * collection ran in the window; if one did (external memory pressure can start one), the child
 * retries with half as many steps. Allocation is a count, not a timing: the numbers do not depend
 * on the machine's load, only on what the step allocates.
 *
 * Parent side: `measureInChild(script, args)` runs a script and returns the measurements it
 * printed. Child side: `measureAllocations(step)` measures, `reportAllocation` prints one line.
 */
import { spawnSync } from "node:child_process";
import { PerformanceObserver } from "node:perf_hooks";

/** What one measurement found. */
export interface AllocMeasurement {
  /** What was measured, e.g. "char-rnn training step, …, donated". */
  readonly label: string;
  /** Bytes allocated per step: JavaScript heap and typed-array memory together. */
  readonly bytesPerStep: number;
  /** Of which typed-array (ArrayBuffer) memory. */
  readonly arrayBufferBytesPerStep: number;
  /** Steps in the measured window (K). */
  readonly steps: number;
  /** Windows tried: a window in which a collection ran is retried with half the steps. */
  readonly attempts: number;
}

/** Options of `measureAllocations`. */
export interface AllocOptions {
  /** Untimed calls first, so that lazy work (tracing, compiling, pools filling) is done. Default 10. */
  readonly warmup?: number;
  /** Steps in the first window tried (K). Default 32. */
  readonly steps?: number;
}

const LINE = "ALLOC ";
const SEMI_SPACE_MB = 256;

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run with node --expose-gc (measureInChild does)");
  collect();
};

const used = (): { heap: number; buffers: number } => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
};

/** Resolves after pending performance entries were delivered to observers. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Measures the bytes one call of `step` allocates in steady state (see the file comment). Run it
 * in a process started by `measureInChild`.
 * @example const m = await measureAllocations("update", () => step(p, s, g)); reportAllocation(m);
 */
export const measureAllocations = async (
  label: string,
  step: () => unknown,
  options: AllocOptions = {},
): Promise<AllocMeasurement> => {
  for (let i = 0; i < (options.warmup ?? 10); i++) step();
  const collections: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) collections.push(e.startTime);
  });
  observer.observe({ entryTypes: ["gc"] });
  try {
    let steps = options.steps ?? 32;
    for (let attempt = 1; steps >= 1; attempt++, steps = Math.floor(steps / 2)) {
      gc();
      await settle();
      collections.length = 0;
      const t0 = performance.now();
      const before = used();
      for (let i = 0; i < steps; i++) step();
      const after = used();
      const t1 = performance.now();
      await settle();
      if (collections.some((t) => t >= t0 && t <= t1)) continue;
      const heap = after.heap - before.heap;
      const buffers = after.buffers - before.buffers;
      return {
        label,
        bytesPerStep: (heap + buffers) / steps,
        arrayBufferBytesPerStep: buffers / steps,
        steps,
        attempts: attempt,
      };
    }
    throw new Error(`${label}: a garbage collection ran inside every window, down to one step`);
  } finally {
    observer.disconnect();
  }
};

/**
 * Prints a measurement as the line `measureInChild` reads.
 * @example reportAllocation(await measureAllocations("update", step))
 */
export const reportAllocation = (m: AllocMeasurement): void => {
  process.stdout.write(`${LINE}${JSON.stringify(m)}\n`);
};

/** The command `measureInChild` runs, for reports. */
export const childCommand = (script: string, args: readonly string[]): readonly string[] => [
  process.execPath,
  "--expose-gc",
  `--max-semi-space-size=${SEMI_SPACE_MB}`,
  `--min-semi-space-size=${SEMI_SPACE_MB}`,
  "--import",
  "tsx",
  script,
  ...args,
];

/**
 * Runs `script` with `args` in a fresh Node process set up for `measureAllocations` and returns
 * the measurements it reported. Throws with the child's output if it failed.
 * @example measureInChild(fileURLToPath(new URL("./train-step.ts", import.meta.url)), ["donate"])
 */
export const measureInChild = (script: string, args: readonly string[]): AllocMeasurement[] => {
  const [node, ...argv] = childCommand(script, args);
  const out = spawnSync(node!, argv, { encoding: "utf8", timeout: 300_000 });
  const lines = out.stdout.split("\n").filter((l) => l.startsWith(LINE));
  if (out.status !== 0 || lines.length === 0)
    throw new Error(`${script} ${args.join(" ")}: exit ${out.status}\n${out.stdout}\n${out.stderr}`);
  return lines.map((l) => JSON.parse(l.slice(LINE.length)) as AllocMeasurement);
};
