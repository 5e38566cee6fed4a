/**
 * @file `pnpm bench:peers` (`tsx bench/peers/run.ts`): Rewind against TensorFlow.js (cpu and
 * wasm backends), jax-js (wasm) and a hand-written plain-TypeScript min-char-rnn, on the same
 * workloads, in one process, interleaved (see harness.ts), with identical data (see data.ts).
 *
 * Workloads: the LSTM training step and min-char-rnn step of issue 6, float32 matmul at
 * n = 128 / 512 / 1024, the per-op cost of a 4-element add, and the first call of the jitted
 * LSTM step (in fresh child processes, see firstcall.ts). Before timing, every training-step
 * implementation runs once and their losses and gradient norms are compared.
 *
 * Output: the machine, progress, the agreement check, a text table, the targets of issue 6 with
 * the measured ratios, and the same table as markdown for bench/peers/README.md. Ratios are
 * Rewind's time ÷ the row's time (below 1: Rewind is faster). Benchmarks are not assertions:
 * nothing here fails on a slow number (only on disagreeing losses, which means a bug).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { CHAR, LSTM, MATMUL_SIZES, lstmFlops, makeCharData, makeLstmData, makeMatrix, type StepCheck } from "./data.js";
import { formatTable, median, timeInterleaved, type Contestant, type Plan, type Timing } from "./harness.js";
import { rewindChar, rewindLstm, rewindMatmul, rewindTinyAdd, type StepContestant } from "./rewind.js";
import { initTf, tfChar, tfLstm, tfMatmul, tfTinyAdd } from "./tfjs.js";
import { initJax, jaxChar, jaxLstm, jaxMatmul, jaxTinyAdd } from "./jaxjs.js";
import { plainChar } from "./plain.js";
import type { FirstCall } from "./firstcall.js";

const log = (s: string): void => void process.stdout.write(`${s}\n`);
// Optional arguments pick workloads: lstm, char, matmul, tiny, first (default: all).
const WORKLOADS = ["lstm", "char", "matmul", "tiny", "first"] as const;
const picked = process.argv.slice(2);
for (const p of picked)
  if (!(WORKLOADS as readonly string[]).includes(p))
    throw new Error(`unknown workload ${p}; choose from ${WORKLOADS.join(", ")}`);
const want = (w: (typeof WORKLOADS)[number]): boolean => picked.length === 0 || picked.includes(w);
const started = performance.now();

// ---- machine ----------------------------------------------------------------------------------

const jaxVersion = (): string => {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../node_modules/@jax-js/jax/package.json", import.meta.url), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "?";
  } catch {
    return "?";
  }
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");

log(`Rewind vs peers — node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores`);
log(`load average (1 / 5 / 15 min) at start: ${load()}`);
const tfInfo = await initTf();
const jaxInitMs = await initJax();
log(
  `TF.js ${tf.version.tfjs} (cpu; wasm SIMD ${tfInfo.simd ? "on" : "off"}, ${tfInfo.multithread ? "multi-threaded" : "1 thread"}), ` +
    `jax-js ${jaxVersion()} (wasm, ${typeof (globalThis as { Worker?: unknown }).Worker === "undefined" ? "1 thread: no Worker in Node" : "worker pool"}; init ${jaxInitMs.toFixed(0)} ms)`,
);

// ---- results ----------------------------------------------------------------------------------

type Unit = "ms" | "µs";

/** One timed workload: its rows, and how its ratio column is computed. */
interface Section {
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

const sections: Section[] = [];
const byName = (s: Section, name: string): Timing => {
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

const runSection = async (
  title: string,
  unit: Unit,
  contestants: readonly Contestant[],
  plan: Plan,
  extra: Omit<Section, "title" | "unit" | "timings">,
): Promise<Section> => {
  log(`\n${title}`);
  const t0 = performance.now();
  const timings = await timeInterleaved(contestants, plan, log);
  for (const c of contestants) c.dispose?.();
  log(`    (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  const s: Section = { title, unit, timings, ...extra };
  sections.push(s);
  return s;
};

// ---- agreement check --------------------------------------------------------------------------

const checks: string[] = [];
let disagreement = false;

/** Runs every step once and compares loss (rel. 1e-4) and gradient norms (rel. 1e-3) with `ref`. */
const checkAgreement = async (workload: string, contestants: readonly StepContestant[], ref: string): Promise<void> => {
  const results: [string, StepCheck][] = [];
  for (const c of contestants) {
    await c.enter?.();
    results.push([c.name, await c.check()]);
  }
  const base = results.find(([n]) => n === ref)![1];
  log(`\n${workload}: loss and gradient norms against ${ref}`);
  for (const [name, r] of results) {
    const lossRel = Math.abs(r.loss - base.loss) / Math.abs(base.loss);
    const gradRel = Math.max(
      ...r.gradNorms.map((g, i) => Math.abs(g - base.gradNorms[i]!) / Math.max(Math.abs(base.gradNorms[i]!), 1e-30)),
    );
    const ok = lossRel <= 1e-4 && gradRel <= 1e-3;
    if (!ok) disagreement = true;
    const line = `  ${ok ? "ok  " : "FAIL"} ${name.padEnd(40)} loss ${r.loss.toPrecision(8)} (rel. diff ${lossRel.toExponential(1)}), grad norms max rel. diff ${gradRel.toExponential(1)}`;
    log(line);
    checks.push(`${workload}: ${line.trim()}`);
  }
};

// ---- 1. LSTM step -----------------------------------------------------------------------------

const REWIND_LSTM_JIT = "Rewind jit(valueAndGrad)";
if (want("lstm")) {
  const d = makeLstmData();
  const contestants: StepContestant[] = [
    rewindLstm(d, "eager"),
    rewindLstm(d, "jit"),
    await tfLstm(d, "cpu"),
    await tfLstm(d, "wasm"),
    jaxLstm(d),
  ];
  await checkAgreement("LSTM step", contestants, REWIND_LSTM_JIT);
  await runSection(
    `LSTM training step: B ${LSTM.B}, T ${LSTM.T}, in ${LSTM.IN}, H ${LSTM.H}, linear on last h, MSE, fwd + BPTT, float32`,
    "ms",
    contestants,
    // ~0.1–2 s per call: every contestant gets ≥ 3 runs; the slowest (TF.js cpu) gets only those.
    { rounds: 11, minRuns: 3, budgetMs: 5000, sampleMs: 0, warmMs: 150 },
    { flops: lstmFlops, refFor: (r) => (r.name === REWIND_LSTM_JIT ? undefined : REWIND_LSTM_JIT) },
  );
}

// ---- 2. min-char-rnn step ---------------------------------------------------------------------

const PLAIN = "plain TypeScript f64 (no framework)";
const REWIND_CHAR_F64 = "Rewind jit(valueAndGrad) f64";
const REWIND_CHAR_F32 = "Rewind jit(valueAndGrad) f32";
if (want("char")) {
  const d = makeCharData();
  const contestants: StepContestant[] = [
    plainChar(d),
    rewindChar(d, "eager", "float64"),
    rewindChar(d, "jit", "float64"),
    rewindChar(d, "eager", "float32"),
    rewindChar(d, "jit", "float32"),
    await tfChar(d, "cpu"),
    await tfChar(d, "wasm"),
    jaxChar(d),
  ];
  await checkAgreement("min-char-rnn step", contestants, PLAIN);
  await runSection(
    `min-char-rnn training step: V ${CHAR.V} (one-hot), H ${CHAR.H}, T ${CHAR.T}, batch 1, softmax CE per step, fwd + BPTT`,
    "ms",
    contestants,
    { rounds: 21, minRuns: 5, budgetMs: 2000, sampleMs: 40, warmMs: 300 },
    {
      // Each row is compared with Rewind's jit at its own precision (TF.js and jax-js are float32).
      refFor: (r) =>
        r.name === REWIND_CHAR_F64 || r.name === REWIND_CHAR_F32
          ? undefined
          : r.name.endsWith("f64") || r.name === PLAIN
            ? REWIND_CHAR_F64
            : REWIND_CHAR_F32,
      note: "ratios: f64 rows against Rewind jit f64, f32 rows (TF.js, jax-js) against Rewind jit f32",
    },
  );
}

// ---- 3. matmul --------------------------------------------------------------------------------

for (const n of want("matmul") ? MATMUL_SIZES : []) {
  const a = makeMatrix(n, 1);
  const b = makeMatrix(n, 2);
  const contestants: Contestant[] = [
    rewindMatmul(a, b, n),
    await tfMatmul(a, b, n, "cpu"),
    await tfMatmul(a, b, n, "wasm"),
    jaxMatmul(a, b, n),
  ];
  // Calls of seconds (scalar JS at n = 1024) get 3 runs; fast ones are repeated inside a sample.
  const plan: Plan =
    n >= 1024
      ? { rounds: 5, minRuns: 3, budgetMs: 2500, sampleMs: 0, warmMs: 100 }
      : { rounds: 9, minRuns: 3, budgetMs: 1000, sampleMs: 30, warmMs: 200 };
  await runSection(`matmul float32 ${n} × ${n} · ${n} × ${n}`, "ms", contestants, plan, {
    flops: 2 * n ** 3,
    refFor: (r) => (r.name === "Rewind" ? undefined : "Rewind"),
  });
}

// ---- 4. tiny op -------------------------------------------------------------------------------

const REWIND_ADD = "Rewind add (@rewind/autodiff op)";
if (want("tiny"))
  await runSection(
    "tiny op: add of two 4-element float32 tensors, eager, per op",
    "µs",
    [
      rewindTinyAdd("op"),
      rewindTinyAdd("kernel"),
      await tfTinyAdd("cpu"),
      await tfTinyAdd("wasm"),
      jaxTinyAdd("eager"),
      jaxTinyAdd("jit"),
    ],
    { rounds: 21, minRuns: 21, budgetMs: 1e9, sampleMs: 20, warmMs: 300 },
    {
      refFor: (r) => (r.name === REWIND_ADD ? undefined : REWIND_ADD),
      note: "TF.js: add + dispose; jax-js is lazy, so each add is read back (dataSync), which is what makes it happen",
    },
  );

// ---- 5. first call (fresh processes) ----------------------------------------------------------

const FIRST_SAMPLES = 3;
const firstCalls: FirstCall[] = [];
if (want("first")) {
  log(`\nfirst call of jit(valueAndGrad(LSTM loss)), ${FIRST_SAMPLES} fresh processes per framework, alternating`);
  const script = fileURLToPath(new URL("./firstcall.ts", import.meta.url));
  for (let i = 0; i < FIRST_SAMPLES; i++) {
    for (const fw of i % 2 === 0 ? ["rewind", "jax"] : ["jax", "rewind"]) {
      // The same node binary and loader flags (tsx's) as this process.
      const out = spawnSync(process.execPath, [...process.execArgv, script, fw], {
        encoding: "utf8",
        timeout: 120_000,
      });
      const line = out.stdout.split("\n").find((l) => l.startsWith("FIRSTCALL "));
      if (line === undefined) {
        log(`    ${fw}: no result (exit ${out.status}): ${out.stderr.slice(-500)}`);
        continue;
      }
      const r = JSON.parse(line.slice("FIRSTCALL ".length)) as FirstCall;
      firstCalls.push(r);
      log(
        `    ${fw}: first ${r.firstMs.toFixed(0)} ms, second ${r.secondMs.toFixed(0)} ms, steady ${r.steadyMs.toFixed(0)} ms (import ${r.importMs.toFixed(0)} ms)`,
      );
    }
  }
}
const firstOf = (fw: FirstCall["framework"]): Timing | undefined => {
  const xs = firstCalls.filter((r) => r.framework === fw).map((r) => r.firstMs);
  return xs.length === 0
    ? undefined
    : { name: fw, medianMs: median(xs), minMs: Math.min(...xs), runs: xs.length, inner: 1 };
};
const firstRewind = firstOf("rewind");
const firstJax = firstOf("jax");
const compileOnly = (fw: FirstCall["framework"]): number =>
  median(firstCalls.filter((r) => r.framework === fw).map((r) => r.firstMs - r.steadyMs));
if (firstRewind !== undefined && firstJax !== undefined) {
  sections.push({
    title: "first call of the jitted LSTM training step (fresh process; trace + differentiate + compile + 1 run)",
    unit: "ms",
    timings: [
      { ...firstRewind, name: "Rewind jit(valueAndGrad)" },
      { ...firstJax, name: "jax-js wasm jit(valueAndGrad)" },
    ],
    refFor: (r) => (r.name.startsWith("Rewind") ? undefined : "Rewind jit(valueAndGrad)"),
    note: `first call minus a steady-state call (compile alone, medians): Rewind ${compileOnly("rewind").toFixed(0)} ms, jax-js ${compileOnly("jax").toFixed(0)} ms`,
  });
}

// ---- table ------------------------------------------------------------------------------------

const header = [
  "workload / implementation",
  "median",
  "min",
  "runs",
  "GFLOP/s (median)",
  "Rewind ÷ this (median)",
  "Rewind ÷ this (min)",
];
const tableRows = (): string[][] => {
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

interface Target {
  readonly what: string;
  /** Measured value by medians and by minimums. */
  readonly median: number;
  readonly min: number;
  readonly goal: number;
  /** "le": measured must be ≤ goal; "ge": ≥ goal. */
  readonly sense: "le" | "ge";
  readonly unit: string;
}

const targets: Target[] = [];
const find = (title: string): Section | undefined => sections.find((s) => s.title.startsWith(title));
/** The faster (by median) of Rewind's rows among `names`. */
const best = (s: Section, names: readonly string[]): Timing =>
  names.map((n) => byName(s, n)).reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
const ratioTarget = (what: string, num: Timing, den: Timing, goal: number): Target => ({
  what: `${what} [${num.name} ÷ ${den.name}]`,
  median: num.medianMs / den.medianMs,
  min: num.minMs / den.minMs,
  goal,
  sense: "le",
  unit: "×",
});
{
  const s = find("LSTM");
  if (s !== undefined) {
    const r = best(s, ["Rewind valueAndGrad (eager)", REWIND_LSTM_JIT]);
    targets.push(ratioTarget("LSTM step ≤ 0.5× jax-js", r, byName(s, "jax-js wasm jit(valueAndGrad)"), 0.5));
    targets.push(ratioTarget("LSTM step ≤ 0.25× TF.js wasm", r, byName(s, "TF.js wasm"), 0.25));
  }
  const c = find("min-char-rnn");
  if (c !== undefined) {
    targets.push(
      ratioTarget(
        "min-char-rnn ≤ 1.25× plain TS",
        best(c, ["Rewind valueAndGrad (eager) f64", REWIND_CHAR_F64]),
        byName(c, PLAIN),
        1.25,
      ),
    );
    targets.push(
      ratioTarget(
        "min-char-rnn ≤ 0.1× jax-js",
        best(c, ["Rewind valueAndGrad (eager) f32", REWIND_CHAR_F32]),
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
      what: `matmul ${n}: Rewind GFLOP/s ≥ TF.js wasm's (${gf(tw.medianMs).toFixed(1)})`,
      median: gf(rw.medianMs) / gf(tw.medianMs),
      min: gf(rw.minMs) / gf(tw.minMs),
      goal: 1,
      sense: "ge",
      unit: "× TF.js wasm",
    });
  }
  if (firstRewind !== undefined && firstJax !== undefined) {
    targets.push(
      ratioTarget("first call ≤ 0.1× jax-js", { ...firstRewind, name: "Rewind" }, { ...firstJax, name: "jax-js" }, 0.1),
    );
  }
  const t = find("tiny op");
  if (t !== undefined) {
    const r = byName(t, REWIND_ADD);
    targets.push({
      what: "eager tiny op < 1 µs [Rewind add]",
      median: r.medianMs * 1e3,
      min: r.minMs * 1e3,
      goal: 1,
      sense: "le",
      unit: " µs",
    });
  }
}
const targetRows = (): string[][] =>
  targets.map((t) => {
    const met = (x: number): boolean => (t.sense === "le" ? x <= t.goal : x >= t.goal);
    // How far off: the speed-up Rewind still needs (time targets) or the GFLOP/s factor.
    const gap = (x: number): string => (t.sense === "le" ? x / t.goal : t.goal / x).toFixed(1);
    return [
      t.what,
      `${t.median.toFixed(t.median >= 10 ? 1 : 3)}${t.unit}`,
      `${t.min.toFixed(t.min >= 10 ? 1 : 3)}${t.unit}`,
      met(t.median)
        ? "met"
        : met(t.min)
          ? "met by minimums only"
          : `not met: needs ${gap(t.median)}× faster (${gap(t.min)}× by minimums)`,
    ];
  });
const targetHeader = ["target (issue 6)", "measured (medians)", "measured (minimums)", "status"];

// ---- print ------------------------------------------------------------------------------------

const totalS = (performance.now() - started) / 1e3;
const machine = `node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores; load average at end ${load()}; total ${totalS.toFixed(0)} s`;
log(`\n${"=".repeat(100)}\n${machine}\n`);
log(
  formatTable(
    header,
    tableRows().map((r) => r.map((c) => c.replace(/\*\*/g, ""))),
    false,
  ),
);
log("");
log(formatTable(targetHeader, targetRows(), false));
log(
  "\nMedians are typical; minimums are what an unloaded machine approaches — if the machine was busy, trust the minimums more.",
);
if (disagreement)
  log(
    "\nWARNING: some implementations disagree (see the check above); their times do not measure the same computation.",
  );

log(`\n---- markdown (paste into bench/peers/README.md) ----\n`);
log(`Command: \`pnpm bench:peers\`. Machine: ${machine}. TF.js ${tf.version.tfjs}, jax-js ${jaxVersion()}.\n`);
log(formatTable(header, tableRows(), true));
log("");
log(formatTable(targetHeader, targetRows(), true));
log("");
for (const c of checks) log(`- ${c}`);
process.exitCode = disagreement ? 1 : 0;
