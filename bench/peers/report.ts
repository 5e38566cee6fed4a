/**
 * @file The tables `pnpm bench:peers` prints: the timings per workload with ratios against
 * Rewind's reference row, and the targets of the issues (6: the training steps, matmul, tiny ops,
 * first call; 16: per-example gradients; 19: data parallelism over workers) with the measured ratios and how far off each one is.
 */
import { pairedRatio, type Timing } from "./harness.js";

/** Row names the targets read. */
export const ROW = {
  lstmJit: "Rewind jit(valueAndGrad)",
  lstmEager: "Rewind valueAndGrad (eager)",
  plain: "plain TypeScript f64 (no framework)",
  charF64: "Rewind jit(valueAndGrad) f64",
  charF32: "Rewind jit(valueAndGrad) f32",
  add: "Rewind add (@rewind/autodiff op)",
  perExample: "Rewind jit(vmap(valueAndGrad))",
  batchGradient: "Rewind jit(valueAndGrad), batch gradient",
  jaxPerExample: "jax-js wasm jit(vmap(valueAndGrad))",
} as const;

export type Unit = "ms" | "µs";

/** One timed workload: its rows, and how its ratio column is computed. */
export interface Section {
  readonly title: string;
  readonly unit: Unit;
  readonly timings: readonly Timing[];
  /** Work per call, for a GFLOP/s column. */
  readonly flops?: number;
  /** The Rewind row a given row is compared with (by name), or undefined for no ratio. */
  readonly refFor: (row: Timing) => string | undefined;
  /** Footnote under the section. */
  readonly note?: string;
}

export const byName = (s: Section, name: string): Timing => {
  const t = s.timings.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no row ${name} in ${s.title}`);
  return t;
};

const fmtTime = (ms: number, unit: Unit): string =>
  unit === "µs"
    ? `${(ms * 1e3).toFixed(2)} µs`
    : ms >= 100
      ? `${ms.toFixed(0)} ms`
      : ms >= 10
        ? `${ms.toFixed(1)} ms`
        : `${ms.toFixed(2)} ms`;
const fmtRatio = (x: number): string => (x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`);

// ---- table ------------------------------------------------------------------------------------

export const header = [
  "workload / implementation",
  "median",
  "min",
  "runs",
  "GFLOP/s (median)",
  "Rewind ÷ this (median)",
  "Rewind ÷ this (min)",
];
export const tableRows = (sections: readonly Section[]): string[][] => {
  const rows: string[][] = [];
  for (const s of sections) {
    rows.push([`**${s.title}**`, "", "", "", "", "", ""]);
    for (const r of s.timings) {
      const ref = s.refFor(r);
      const rt = ref === undefined ? undefined : byName(s, ref);
      rows.push([
        r.name,
        fmtTime(r.medianMs, s.unit),
        fmtTime(r.minMs, s.unit),
        r.inner > 1 ? `${r.runs} × ${r.inner}` : String(r.runs),
        s.flops === undefined ? "" : (s.flops / r.medianMs / 1e6).toFixed(2),
        rt === undefined ? "(ref)" : fmtRatio(rt.medianMs / r.medianMs),
        rt === undefined ? "(ref)" : fmtRatio(rt.minMs / r.minMs),
      ]);
    }
    if (s.note !== undefined) rows.push([`(${s.note})`, "", "", "", "", "", ""]);
  }
  return rows;
};

// ---- targets of issue 6 -----------------------------------------------------------------------

export interface Target {
  readonly what: string;
  /** Measured value by medians and by minimums. */
  readonly median: number;
  readonly min: number;
  /** For a ratio of two rows timed in one run: the median of their per-round ratios (`pairedRatio`). */
  readonly paired?: number;
  readonly goal: number;
  /** "le": measured must be ≤ goal; "ge": ≥ goal. */
  readonly sense: "le" | "ge";
  readonly unit: string;
}

/** The faster (by median) of Rewind's rows among `names`. */
const best = (s: Section, names: readonly string[]): Timing =>
  names.map((n) => byName(s, n)).reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
const ratioTarget = (what: string, num: Timing, den: Timing, goal: number): Target => {
  const paired = pairedRatio(num, den);
  return {
    what: `${what} [${num.name} ÷ ${den.name}]`,
    median: num.medianMs / den.medianMs,
    min: num.minMs / den.minMs,
    ...(paired === undefined ? {} : { paired }),
    goal,
    sense: "le",
    unit: "×",
  };
};
export const computeTargets = (
  sections: readonly Section[],
  firstRewind: Timing | undefined,
  firstJax: Timing | undefined,
): Target[] => {
  const targets: Target[] = [];
  const find = (title: string): Section | undefined => sections.find((s) => s.title.startsWith(title));
  const s = find("LSTM");
  if (s !== undefined) {
    const r = best(s, [ROW.lstmEager, ROW.lstmJit]);
    targets.push(ratioTarget("issue 6: LSTM step ≤ 0.5× jax-js", r, byName(s, "jax-js wasm jit(valueAndGrad)"), 0.5));
    targets.push(ratioTarget("issue 6: LSTM step ≤ 0.25× TF.js wasm", r, byName(s, "TF.js wasm"), 0.25));
  }
  const c = find("min-char-rnn");
  if (c !== undefined) {
    targets.push(
      ratioTarget(
        "issue 6: min-char-rnn ≤ 1.25× plain TS",
        best(c, ["Rewind valueAndGrad (eager) f64", ROW.charF64]),
        byName(c, ROW.plain),
        1.25,
      ),
    );
    targets.push(
      ratioTarget(
        "issue 6: min-char-rnn ≤ 0.1× jax-js",
        best(c, ["Rewind valueAndGrad (eager) f32", ROW.charF32]),
        byName(c, "jax-js wasm jit(valueAndGrad)"),
        0.1,
      ),
    );
  }
  for (const n of [512, 1024]) {
    const m = find(`matmul float32 ${n} `);
    if (m === undefined) continue;
    const gf = (ms: number): number => (2 * n ** 3) / ms / 1e6;
    const rw = byName(m, "Rewind");
    const tw = byName(m, "TF.js wasm");
    targets.push({
      what: `issue 6: matmul ${n}: Rewind GFLOP/s ≥ TF.js wasm's (${gf(tw.medianMs).toFixed(1)})`,
      median: gf(rw.medianMs) / gf(tw.medianMs),
      min: gf(rw.minMs) / gf(tw.minMs),
      goal: 1,
      sense: "ge",
      unit: "× TF.js wasm",
    });
  }
  if (firstRewind !== undefined && firstJax !== undefined) {
    targets.push(
      ratioTarget(
        "issue 6: first call ≤ 0.1× jax-js",
        { ...firstRewind, name: "Rewind" },
        { ...firstJax, name: "jax-js" },
        0.1,
      ),
    );
  }
  const t = find("tiny op");
  if (t !== undefined) {
    const r = byName(t, ROW.add);
    targets.push({
      what: "issue 6: eager tiny op < 1 µs [Rewind add]",
      median: r.medianMs * 1e3,
      min: r.minMs * 1e3,
      goal: 1,
      sense: "le",
      unit: " µs",
    });
  }
  for (const [batch, goal] of [
    [32, 0.6],
    [128, 0.55],
  ] as const) {
    const w = find(`data-parallel LSTM step: B ${batch},`);
    if (w === undefined) continue;
    targets.push(
      ratioTarget(
        `issue 19: LSTM step B ${batch} on 2 workers ≤ ${goal}× one thread`,
        byName(w, "Rewind pmap, 2 workers"),
        byName(w, "Rewind jit, 1 thread"),
        goal,
      ),
    );
    if (w.timings.some((r) => r.name === "Rewind jit, 2 kernel threads"))
      targets.push(
        ratioTarget(
          `issue 19: LSTM step B ${batch} on 2 kernel threads ≤ ${goal}× one thread`,
          byName(w, "Rewind jit, 2 kernel threads"),
          byName(w, "Rewind jit, 1 thread"),
          goal,
        ),
      );
  }
  const p = find("per-example");
  if (p !== undefined) {
    const r = byName(p, ROW.perExample);
    targets.push(ratioTarget("issue 16: per-example grads ≤ 2× batch grad", r, byName(p, ROW.batchGradient), 2));
    targets.push(ratioTarget("issue 16: per-example grads ≤ 0.5× jax-js", r, byName(p, ROW.jaxPerExample), 0.5));
  }
  return targets;
};
export const targetRows = (targets: readonly Target[]): string[][] =>
  targets.map((t) => {
    const met = (x: number): boolean => (t.sense === "le" ? x <= t.goal : x >= t.goal);
    // How far off: the speed-up Rewind still needs (time targets) or the GFLOP/s factor.
    const gap = (x: number): string => (t.sense === "le" ? x / t.goal : t.goal / x).toFixed(1);
    const fmt = (x: number): string => `${x.toFixed(x >= 10 ? 1 : 3)}${t.unit}`;
    // Rows timed in one run are judged by their per-round ratio, the estimate a drifting machine
    // disturbs least; other targets by their medians.
    const judged = t.paired ?? t.median;
    return [
      t.what,
      fmt(t.median),
      fmt(t.min),
      t.paired === undefined ? "" : fmt(t.paired),
      met(judged)
        ? "met"
        : met(t.min)
          ? "met by minimums only"
          : `not met: needs ${gap(judged)}× faster (${gap(t.min)}× by minimums)`,
    ];
  });
export const targetHeader = [
  "target (issue)",
  "measured (medians)",
  "measured (minimums)",
  "measured (per round)",
  "status",
];
