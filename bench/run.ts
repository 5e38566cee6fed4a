/**
 * @file The benchmark runner: `pnpm bench` (that is, `tsx bench/run.ts [filter ...]`).
 *
 * Every `*.bench.ts` file next to this one exports a `suite` (a name and a list of cases); the
 * runner imports them all, so adding a benchmark means adding a file. Each case builds its
 * inputs untimed in `setup`, is warmed up (so V8 has optimised the hot loops), then timed with
 * `performance.now()` over several repeats; the table shows the median (robust to GC pauses and
 * to the other core being busy) and the minimum. Cases may declare the work they do (`flops`,
 * `elements`) to get throughput columns, and a `baseline` case of the same suite to get a speed
 * ratio, timed in alternation with the baseline in the same process (`timeGroup`).
 *
 * Arguments filter cases by substring of "suite/case", e.g. `tsx bench/run.ts matmul`.
 * Benchmarks are never assertions: nothing here fails on a slow number.
 */
import { readdirSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { perRoundRatio, roundOrder } from "./peers/harness.js";

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
  /**
   * Untimed calls of the case right before each of its timed calls when it is timed interleaved
   * with others (default 0): then a sample times a call that follows a call of its own, as in a
   * loop of it, not one that follows another case's call and pays for that call's garbage and
   * evicted caches (see `timeGroup`).
   */
  readonly settle?: number;
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
  /** How many times faster than its baseline, timed interleaved with it (see `timeGroup`). */
  readonly ratio?: number;
}

// Results go here so V8 cannot drop a call whose value is unused.
let sink: unknown;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A case set up and warmed: the call to time and how many timed calls it gets. */
interface Prepared {
  readonly fn: () => unknown;
  readonly runs: number;
}

const prepare = (c: BenchCase): Prepared => {
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
  return { fn, runs };
};

const timeOnce = (fn: () => unknown): number => {
  const t0 = performance.now();
  sink = fn();
  return performance.now() - t0;
};

const summarise = (suite: string, c: BenchCase, times: readonly number[]): BenchResult => ({
  suite,
  bench: c,
  medianMs: median(times),
  minMs: Math.min(...times),
  runs: times.length,
  ...(c.warmup === false ? { firstMs: times[0]! } : {}),
});

/**
 * Warms up, then times `c` and returns the median and minimum of the timed calls.
 * @example timeCase("demo", { name: "noop", setup: () => () => 0 }).medianMs // ~0.0001
 */
export const timeCase = (suite: string, c: BenchCase): BenchResult => {
  const { fn, runs } = prepare(c);
  return summarise(
    suite,
    c,
    Array.from({ length: runs }, () => timeOnce(fn)),
  );
};

/** A baseline's row and its cases' rows, each case with its ratio (see `timeGroup`). */
export interface GroupResult {
  readonly base: BenchResult;
  readonly cases: readonly BenchResult[];
}

/**
 * Times a baseline and the cases compared with it interleaved: all are set up and warmed, then
 * every round times one call of each (in the rounds' Williams order, so none always follows the
 * same neighbour), a slow one sitting out rounds evenly to keep to its repeats; a case's speed
 * ratio is the median over the rounds both took part in of the baseline's time ÷ the case's.
 * On a shared machine whose speed drifts by phases seconds long (this one's vCPUs ran a fixed loop
 * at 1–2× its fastest time from one second to the next), a ratio of two medians timed a second
 * apart measures the drift as much as the code; a ratio within each round cancels it. With fewer
 * than 3 shared rounds, and for cold-start cases (`warmup: false`, timed apart), the ratio is
 * the baseline's median ÷ the case's.
 * @example timeGroup("demo", { name: "a", setup: () => () => 0 }, [{ name: "b", baseline: "a", setup: () => () => 0 }]).cases[0]!.ratio // ~1
 */
export const timeGroup = (suite: string, base: BenchCase, cases: readonly BenchCase[]): GroupResult => {
  const members = base.warmup === false ? [] : [base, ...cases.filter((c) => c.warmup !== false)];
  const prepared = members.map(prepare);
  const rounds = Math.max(0, ...prepared.map((p) => p.runs));
  const samples: (number | null)[][] = members.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const i of roundOrder(r, members.length)) {
      const { fn, runs } = prepared[i]!;
      const takesPart = Math.floor(((r + 1) * runs) / rounds) > Math.floor((r * runs) / rounds);
      if (takesPart) for (let k = 0; k < (members[i]!.settle ?? 0); k++) sink = fn();
      samples[i]!.push(takesPart ? timeOnce(fn) : null);
    }
  }
  const taken = (i: number): number[] => samples[i]!.filter((t) => t !== null);
  const baseResult = members.length > 0 ? summarise(suite, base, taken(0)) : timeCase(suite, base);
  return {
    base: baseResult,
    cases: cases.map((c) => {
      const i = members.indexOf(c);
      if (i < 0) {
        const alone = timeCase(suite, c);
        return { ...alone, ratio: baseResult.medianMs / alone.medianMs };
      }
      const r = summarise(suite, c, taken(i));
      return { ...r, ratio: perRoundRatio(samples[0]!, samples[i]!) ?? baseResult.medianMs / r.medianMs };
    }),
  };
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
    const ratio = r.ratio ?? (base === undefined ? undefined : base.medianMs / r.medianMs);
    return [
      r.suite,
      r.bench.name,
      r.medianMs.toFixed(3),
      r.minMs.toFixed(3),
      String(r.runs),
      r.bench.flops === undefined ? "" : (r.bench.flops / r.medianMs / 1e6).toFixed(2),
      r.bench.elements === undefined ? "" : si(r.bench.elements / (r.medianMs / 1e3)),
      base === undefined || ratio === undefined ? "" : `${ratio.toFixed(2)}× ${base.bench.name}`,
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
    // Cases with a baseline are timed interleaved with it, one group per baseline; a case that
    // is neither compared with anything nor a chosen case's baseline is timed alone.
    const timed = new Map<string, BenchResult>();
    const groups = new Map<string, BenchCase[]>();
    for (const c of chosen) {
      if (c.baseline === undefined) continue;
      if (!s.cases.some((o) => o.name === c.baseline))
        throw new Error(`bench ${s.name}/${c.name}: its baseline "${c.baseline}" is not a case of the suite`);
      groups.set(c.baseline, [...(groups.get(c.baseline) ?? []), c]);
    }
    for (const c of chosen) {
      if (c.baseline !== undefined || groups.has(c.name)) continue;
      process.stdout.write(`  ${s.name}/${c.name} ...`);
      timed.set(c.name, timeCase(s.name, c));
      process.stdout.write(` ${timed.get(c.name)!.medianMs.toFixed(3)} ms\n`);
    }
    for (const [baseName, cases] of groups) {
      process.stdout.write(`  ${s.name}/${baseName} and ${cases.length} compared with it ...`);
      const g = timeGroup(
        s.name,
        s.cases.find((o) => o.name === baseName)!,
        cases,
      );
      // A baseline that is itself compared with another keeps the row that has its ratio.
      if (!timed.has(baseName)) timed.set(baseName, g.base);
      for (const r of g.cases) timed.set(r.bench.name, r);
      process.stdout.write(` ${g.cases.map((r) => `${r.ratio!.toFixed(2)}×`).join(", ")}\n`);
    }
    for (const c of s.cases) {
      const r = timed.get(c.name);
      if (r !== undefined) results.push(r);
    }
  }
  void sink; // read once, so the compiler keeps the variable the timed calls write
  const note = results.some((r) => r.ratio !== undefined)
    ? "\n(vs baseline: the median over the rounds of the baseline's time ÷ the case's; a baseline and its cases are timed in alternation)"
    : "";
  console.log(`\n${formatTable(results)}${note}\n\n(total ${((performance.now() - started) / 1e3).toFixed(1)} s)`);
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
