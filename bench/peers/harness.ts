/**
 * @file The interleaved timing harness of `pnpm bench:peers`.
 *
 * A workload has one contestant per framework. All are built and warmed up first; then the
 * timed rounds interleave them — round r times one sample of every contestant, in the order
 * `roundOrder` gives — so a burst of load from elsewhere on the machine lands on all frameworks
 * alike instead of on whichever happened to run during it, and what one contestant leaves behind
 * (garbage to collect, cold caches, threads to wake) lands on every other one in turn rather than
 * always on the same neighbour. Slow contestants sit out some rounds
 * (spread evenly over the run, so they still see the same machine states) to keep the run short.
 * A fast call is repeated `inner` times inside one sample and divided, so timer resolution and
 * single GC pauses do not dominate; a plan may settle each sample with untimed calls just before
 * it (`Plan.settle`). The table reports the median (typical) and the minimum (closest to an
 * unloaded machine) per call.
 */

/**
 * The order of `n` contestants in round `round`. Rounds cycle through a Williams design: over a
 * cycle (n rounds for even n, 2n for odd n) every contestant comes right after every other one
 * equally often, and sits in every position equally often. A plain rotation kept each contestant
 * behind the same neighbour in every round, so whatever one left behind always fell on the same
 * other one (in a five-row trial, a pmap-like row timed always right after the one-thread step ran
 * 0.77–1.01× of it, and 0.61–0.75× when another row came before it).
 * @example roundOrder(0, 4) // [0, 1, 3, 2]
 */
export const roundOrder = (round: number, n: number): number[] => {
  // The first sequence is 0, 1, n−1, 2, n−2, …; the others add the round (mod n); odd n also
  // runs every sequence reversed, which no single set of n sequences can balance.
  const first = Array.from({ length: n }, (_, k) => (k % 2 === 1 ? (k + 1) / 2 : (n - k / 2) % n));
  const cycle = n % 2 === 0 ? n : 2 * n;
  const shift = round % cycle;
  const order = first.map((c) => (c + shift) % n);
  return shift >= n ? order.reverse() : order;
};

/** One framework's implementation of a workload. */
export interface Contestant {
  /** Row label, e.g. "TF.js wasm". */
  readonly name: string;
  /** Puts the framework in the state the call needs (e.g. TF.js's active backend); not timed. */
  readonly enter?: () => Promise<void> | void;
  /** One call of the workload; must leave its results computed (lazy frameworks are forced). */
  readonly run: () => Promise<void> | void;
  /** Frees what setup allocated (tensors on wasm heaps). */
  readonly dispose?: () => void;
}

/** How one workload is timed. */
export interface Plan {
  /** Timed rounds for the fastest contestants. */
  readonly rounds: number;
  /** Fewest timed samples any contestant gets, however slow. */
  readonly minRuns: number;
  /** Time a contestant may spend on timed calls, in ms; slower ones get fewer runs (≥ minRuns). */
  readonly budgetMs: number;
  /** Target duration of one sample; calls faster than this are repeated inside a sample. */
  readonly sampleMs: number;
  /** Warm-up time per contestant, in ms (at least 2 calls, or 1 call slower than this). */
  readonly warmMs: number;
  /**
   * Untimed calls of the same contestant right before each timed sample (default 0), so that a
   * sample times a call of a warm loop, as a training loop makes them back to back, and not the
   * first call after another contestant's, which evicted its caches (worker threads and the main
   * thread share the cores' caches; see the workers section).
   */
  readonly settle?: number;
}

/** What timing one contestant produced, per call. */
export interface Timing {
  readonly name: string;
  readonly medianMs: number;
  readonly minMs: number;
  /** Timed samples. */
  readonly runs: number;
  /** Calls per sample. */
  readonly inner: number;
  /**
   * This contestant's sample in each timed round, null where it sat out: two rows of one run are
   * compared round by round (`pairedRatio`), so a drift of the machine's speed between rounds cancels.
   */
  readonly perRound?: readonly (number | null)[];
  /** Which interleaved run timed it (process and run number): only rows of one run pair up. */
  readonly run?: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Interleaved runs made by this process so far (for `Timing.run`). */
let runCount = 0;

const callOnce = async (c: Contestant): Promise<number> => {
  const t0 = performance.now();
  const r = c.run();
  if (r !== undefined) await r;
  return performance.now() - t0;
};

/** Times `inner` calls back to back; sync calls are never awaited, so no microtask per call. */
const sample = async (c: Contestant, inner: number): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < inner; i++) {
    const r = c.run();
    if (r !== undefined) await r;
  }
  return (performance.now() - t0) / inner;
};

/**
 * Warms up and times every contestant, interleaved round by round.
 * @example await timeInterleaved([{ name: "noop", run: () => {} }], plan)
 */
export const timeInterleaved = async (
  contestants: readonly Contestant[],
  plan: Plan,
  log: (s: string) => void,
): Promise<Timing[]> => {
  // Warm-up, one contestant after the other (V8 optimises, kernels compile, caches fill).
  const perCall: number[] = [];
  const inner: number[] = [];
  for (const c of contestants) {
    await c.enter?.();
    const start = performance.now();
    let n = 0;
    let last: number;
    for (;;) {
      last = await callOnce(c);
      n++;
      if (last >= plan.warmMs || (n >= 2 && performance.now() - start >= plan.warmMs)) break;
    }
    // Calls per sample: one for slow calls; for fast ones, grow a batch until it lasts a quarter
    // of sampleMs, then scale it to sampleMs (one call's time alone is timer noise). Each size is
    // tried 3 times and the fastest kept, so one load spike cannot make a fast call look slow.
    let k = 1;
    let per = last;
    if (plan.sampleMs > 0 && last < plan.sampleMs) {
      for (;;) {
        per = Math.min(await sample(c, k), await sample(c, k), await sample(c, k));
        if (per * k >= plan.sampleMs / 4 || k >= 1e7) break;
        k *= 4;
      }
      k = Math.max(1, Math.round(plan.sampleMs / per));
    }
    perCall.push(per);
    inner.push(k);
    log(`    warm ${c.name}: ${per < 0.1 ? `${(per * 1e3).toFixed(2)} µs` : `${per.toFixed(2)} ms`}/call`);
  }
  const runs = perCall.map((ms, i) =>
    Math.min(plan.rounds, Math.max(plan.minRuns, Math.floor(plan.budgetMs / (ms * inner[i]!)))),
  );
  const run = `${process.pid}.${++runCount}`;
  const times: (number | null)[][] = contestants.map(() => []);
  for (let r = 0; r < plan.rounds; r++) {
    for (const i of roundOrder(r, contestants.length)) {
      // Contestant i takes part in runs[i] of the rounds, evenly spread.
      const wants = Math.floor(((r + 1) * runs[i]!) / plan.rounds) - Math.floor((r * runs[i]!) / plan.rounds);
      if (wants === 0) {
        times[i]!.push(null);
        continue;
      }
      const c = contestants[i]!;
      await c.enter?.();
      for (let s = 0; s < (plan.settle ?? 0); s++) await callOnce(c);
      times[i]!.push(await sample(c, inner[i]!));
    }
  }
  return contestants.map((c, i) => {
    const taken = times[i]!.filter((t) => t !== null);
    return {
      name: c.name,
      medianMs: median(taken),
      minMs: Math.min(...taken),
      runs: taken.length,
      inner: inner[i]!,
      perRound: times[i]!,
      run,
    };
  });
};

/**
 * The median over the rounds both took part in of `num`'s sample ÷ `den`'s, or undefined when
 * they were timed in different runs or share fewer than 3 rounds (mostly sitting out). On a machine
 * whose speed drifts between phases seconds long (this one's vCPUs ran a fixed loop at 1–2× its
 * best time from one second to the next), a ratio of two medians also measures which phases each
 * row's samples fell in; within a round both rows run in the same phase.
 * @example pairedRatio({ ...a, run: "7.1", perRound: [2, 4, 6] }, { ...b, run: "7.1", perRound: [1, 2, 3] }) // 2
 */
export const pairedRatio = (num: Timing, den: Timing): number | undefined =>
  num.run === undefined || num.run !== den.run ? undefined : perRoundRatio(num.perRound ?? [], den.perRound ?? []);

/**
 * `pairedRatio` on two rows' per-round samples (null: sat out that round).
 * @example perRoundRatio([2, null, 6, 8], [1, 3, 3, 4]) // 2
 */
export const perRoundRatio = (a: readonly (number | null)[], b: readonly (number | null)[]): number | undefined => {
  if (a.length !== b.length) return undefined;
  const ratios = a.flatMap((x, r) => {
    const y = b[r];
    return x === null || y === null || y === undefined ? [] : [x / y];
  });
  return ratios.length >= 3 ? median(ratios) : undefined;
};

/**
 * A plain-text or markdown table; numeric columns (all but the first) are right-aligned.
 * @example formatTable(["a", "b"], [["x", "1"]], false)
 */
export const formatTable = (
  header: readonly string[],
  rows: readonly (readonly string[])[],
  markdown: boolean,
): string => {
  if (markdown) {
    const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
};
