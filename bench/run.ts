/**
 * @file The benchmark runner: `pnpm bench` (that is, `tsx bench/run.ts [filter ...]`).
 *
 * Every `*.bench.ts` file next to this one exports a `suite` (a name and a list of cases); the
 * runner imports them all, so adding a benchmark means adding a file. Each case builds its
 * inputs untimed in `setup`, is warmed up (so V8 has optimised the hot loops), then timed with
 * `performance.now()` over several repeats; the table shows the median (robust to GC pauses and
 * to the other core being busy) and the minimum. Cases may declare the work they do (`flops`,
 * `elements`) to get throughput columns, and a `baseline` case of the same suite to get a speed
 * ratio measured in the same process, on the same machine, minutes apart at most.
 *
 * Arguments filter cases by substring of "suite/case", e.g. `tsx bench/run.ts matmul`.
 * Benchmarks are never assertions: nothing here fails on a slow number.
 */
import { readdirSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * One thing to time: `setup` builds inputs untimed and returns the call to time.
 * @example const c: BenchCase = { name: "sum 1e6", elements: 1e6, setup: () => { const x = ones([1e6]); return () => sum(x); } }
 */
export interface BenchCase {
  /** Shown in the table; unique within its suite (baselines refer to it). */
  readonly name: string;
  /** Builds the inputs (not timed) and returns the function to time. */
  readonly setup: () => () => unknown;
  /** Floating-point operations per call, for a GFLOP/s column. */
  readonly flops?: number;
  /** Elements processed per call, for an elements/s column. */
  readonly elements?: number;
  /** Name of another case in the same suite; the table shows how many times faster this one is. */
  readonly baseline?: string;
  /** Timed calls at least (default 3) and at most (default 50). */
  readonly minRepeats?: number;
  readonly maxRepeats?: number;
  /** Time to spend on timed calls, in ms, when calls are fast (default 1000). */
  readonly budgetMs?: number;
  /**
   * False: no warm-up calls, so the first timed call is the first call of the case (a cold start,
   * e.g. a fresh `jit`'s trace and compile); the table then also shows that call's time.
   */
  readonly warmup?: boolean;
}

/**
 * A named group of cases, exported as `suite` from a `*.bench.ts` file.
 * @example export const suite: BenchSuite = { name: "autodiff", cases: [gradCase, jitCase] }
 */
export interface BenchSuite {
  readonly name: string;
  readonly cases: readonly BenchCase[];
}

/**
 * What timing one case produced: the median and minimum call time in ms, over `runs` calls.
 * @example timeCase("demo", { name: "noop", setup: () => () => 0 }).runs // 50
 */
export interface BenchResult {
  readonly suite: string;
  readonly bench: BenchCase;
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  /** The first timed call, in ms, for a case without warm-up. */
  readonly firstMs?: number;
}

// Results go here so V8 cannot drop a call whose value is unused.
let sink: unknown;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Warms up, then times `c` and returns the median and minimum of the timed calls.
 * @example timeCase("demo", { name: "noop", setup: () => () => 0 }).medianMs // ~0.0001
 */
export const timeCase = (suite: string, c: BenchCase): BenchResult => {
  const fn = c.setup();
  // Warm-up: at least 2 calls and 150 ms (enough for V8 to optimise), but one call suffices
  // when a call takes longer than that, since long loops are optimised on the fly (OSR).
  const warmStart = performance.now();
  let warmRuns = 0;
  let last = 0;
  while (c.warmup !== false && warmRuns < 200) {
    const t0 = performance.now();
    sink = fn();
    last = performance.now() - t0;
    warmRuns++;
    const elapsed = performance.now() - warmStart;
    if ((warmRuns >= 2 && elapsed >= 150) || last >= 150) break;
  }
  const budget = c.budgetMs ?? 1000;
  const runs =
    c.warmup === false
      ? (c.minRepeats ?? 3)
      : Math.max(c.minRepeats ?? 3, Math.min(c.maxRepeats ?? 50, Math.floor(budget / Math.max(last, 1e-3))));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    sink = fn();
    times.push(performance.now() - t0);
  }
  const first = c.warmup === false ? { firstMs: times[0]! } : {};
  return { suite, bench: c, medianMs: median(times), minMs: Math.min(...times), runs, ...first };
};

const si = (x: number): string => {
  for (const [scale, unit] of [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const)
    if (x >= scale) return `${(x / scale).toFixed(2)}${unit}`;
  return x.toFixed(2);
};

/**
 * Formats results as an aligned text table, one row per case, with throughput and ratio columns.
 * @example console.log(formatTable([timeCase("demo", { name: "noop", setup: () => () => 0 })]))
 */
export const formatTable = (results: readonly BenchResult[]): string => {
  const header = ["suite", "case", "median ms", "min ms", "runs", "GFLOP/s", "elements/s", "vs baseline", "first ms"];
  const rows = results.map((r) => {
    const base =
      r.bench.baseline === undefined
        ? undefined
        : results.find((o) => o.suite === r.suite && o.bench.name === r.bench.baseline);
    return [
      r.suite,
      r.bench.name,
      r.medianMs.toFixed(3),
      r.minMs.toFixed(3),
      String(r.runs),
      r.bench.flops === undefined ? "" : (r.bench.flops / r.medianMs / 1e6).toFixed(2),
      r.bench.elements === undefined ? "" : si(r.bench.elements / (r.medianMs / 1e3)),
      base === undefined ? "" : `${(base.medianMs / r.medianMs).toFixed(2)}× ${base.bench.name}`,
      r.firstMs === undefined ? "" : r.firstMs.toFixed(3),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => ((i >= 2 && i <= 6) || i === 8 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
};

/**
 * Imports every `*.bench.ts` file in this directory and returns their suites, sorted by file.
 * @example (await loadSuites()).map((s) => s.name) // ["tensor"]
 */
export const loadSuites = async (): Promise<BenchSuite[]> => {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(dir + f).href)) as { suite?: BenchSuite };
    if (mod.suite === undefined) throw new Error(`bench/${f} must export \`suite: BenchSuite\``);
    suites.push(mod.suite);
  }
  return suites;
};

const main = async (): Promise<void> => {
  const filters = process.argv.slice(2);
  const wanted = (suite: string, c: BenchCase): boolean => {
    if (filters.length === 0) return true;
    const id = `${suite}/${c.name}`;
    return filters.some((f) => id.includes(f));
  };
  const suites = await loadSuites();
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`Rewind benchmarks — node ${process.version}, ${cpu}, ${availableParallelism()} cores`);
  const started = performance.now();
  const results: BenchResult[] = [];
  for (const s of suites) {
    const chosen = s.cases.filter((c) => wanted(s.name, c));
    // A baseline runs whenever a case that compares against it does.
    const bases = new Set(chosen.flatMap((c) => (c.baseline === undefined ? [] : [c.baseline])));
    for (const c of s.cases) {
      if (!chosen.includes(c) && !bases.has(c.name)) continue;
      process.stdout.write(`  ${s.name}/${c.name} ...`);
      const r = timeCase(s.name, c);
      process.stdout.write(` ${r.medianMs.toFixed(3)} ms\n`);
      results.push(r);
    }
  }
  void sink; // read once, so the compiler keeps the variable the timed calls write
  console.log(`\n${formatTable(results)}\n\n(total ${((performance.now() - started) / 1e3).toFixed(1)} s)`);
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
