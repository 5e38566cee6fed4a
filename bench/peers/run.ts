/**
 * @file `pnpm bench:peers` (`tsx bench/peers/run.ts`): Rewind against TensorFlow.js (cpu and
 * wasm backends), jax-js (wasm) and a hand-written plain-TypeScript min-char-rnn, on the same
 * workloads, in one process, interleaved (see harness.ts), with identical data (see data.ts).
 *
 * Workloads: the LSTM training step and min-char-rnn step of issue 6, the per-example gradients
 * of that LSTM step (issue 16: `vmap`), float32 matmul at n = 128 / 512 / 1024, the per-op cost of
 * a 4-element add, and the first call of the jitted LSTM step (in fresh child processes, see
 * firstcall.ts). Before timing, every training-step implementation runs once and their losses and
 * gradient norms are compared.
 *
 * Output: the machine, progress, the agreement check, a text table, the targets of the issues
 * with the measured ratios (report.ts), and the same table as markdown for bench/peers/README.md. Ratios are
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
import { rewindPerExample } from "./rewindPerExample.js";
import { jaxPerExample } from "./jaxjsPerExample.js";
import { ROW, computeTargets, header, tableRows, targetHeader, targetRows, type Section, type Unit } from "./report.js";
import { initTf, tfChar, tfLstm, tfMatmul, tfTinyAdd } from "./tfjs.js";
import { initJax, jaxChar, jaxLstm, jaxMatmul, jaxTinyAdd } from "./jaxjs.js";
import { plainChar } from "./plain.js";
import { WORKERS_PLAN, type WorkersSectionResult } from "./workers.js";
import type { FirstCall } from "./firstcall.js";

const log = (s: string): void => void process.stdout.write(`${s}\n`);
// Optional arguments pick workloads: lstm, char, perexample, workers, matmul, tiny, first (default: all).
const WORKLOADS = ["lstm", "char", "perexample", "workers", "matmul", "tiny", "first"] as const;
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

const sections: Section[] = [];

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

const REWIND_LSTM_JIT = ROW.lstmJit;
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

const { plain: PLAIN, charF64: REWIND_CHAR_F64, charF32: REWIND_CHAR_F32 } = ROW;
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

// ---- 2b. per-example gradients (issue 16) ----------------------------------------------------

if (want("perexample")) {
  const d = makeLstmData();
  const perExample = [rewindPerExample(d, "vmap"), rewindPerExample(d, "loop"), jaxPerExample(d)];
  await checkAgreement("per-example gradients", perExample, perExample[1]!.name);
  await runSection(
    `per-example gradients of the LSTM step: ${LSTM.B} gradients of one example each (same model and data), float32`,
    "ms",
    [{ ...rewindLstm(d, "jit"), name: ROW.batchGradient }, ...perExample],
    // jax-js takes seconds per call: it gets the 3 runs of minRuns; the others fill the rounds.
    { rounds: 11, minRuns: 3, budgetMs: 5000, sampleMs: 0, warmMs: 150 },
    {
      flops: lstmFlops,
      refFor: (r) => (r.name === ROW.perExample ? undefined : ROW.perExample),
      note: "the batch gradient (one gradient of the mean loss) is there for scale; the agreement check compares the norms of the stacked per-example gradients",
    },
  );
}

// ---- 2c. data parallelism over worker threads (issue 19) ------------------------------------

for (const batch of want("workers") ? [LSTM.B, 4 * LSTM.B] : []) {
  // Rewind's rows in a process of their own (see workersSection.ts for why), the peers here.
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL("./workersSection.ts", import.meta.url)), String(batch)],
    { encoding: "utf8", timeout: 600_000 },
  );
  const line = child.stdout.split("\n").find((l) => l.startsWith("WORKERS "));
  if (line === undefined)
    throw new Error(`the data-parallel rows (B ${batch}) failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
  const rows = JSON.parse(line.slice("WORKERS ".length)) as WorkersSectionResult;
  const d = makeLstmData(batch);
  // The peers on the same step, each on one thread: in Node neither TF.js's wasm backend nor
  // jax-js can use threads (see the header line), so these are their best here.
  const peers = [await tfLstm(d, "wasm"), jaxLstm(d)];
  const reported: StepContestant[] = rows.checks.map(([name, r]) => ({ name, run: () => undefined, check: () => r }));
  await checkAgreement(`data-parallel LSTM step, B ${batch}`, [...reported, ...peers], reported[0]!.name);
  const title =
    `data-parallel LSTM step: B ${batch}, T ${LSTM.T}, in ${LSTM.IN}, H ${LSTM.H}, jit(valueAndGrad), float32, ` +
    `${availableParallelism()} cores`;
  log(`\n${title}`);
  for (const l of rows.log) log(l);
  const peerTimings = await timeInterleaved(peers, WORKERS_PLAN, log);
  for (const c of peers) c.dispose?.();
  sections.push({
    title,
    unit: "ms",
    timings: [...rows.timings, ...peerTimings],
    refFor: (r) => (r.name === reported[0]!.name ? undefined : reported[0]!.name),
    note:
      "pmap splits the batch in halves; each worker computes its gradient, pmean averages them in shared memory; " +
      'kernel threads split by rows each product of ≥ 250 k multiply-adds and the large fused loops (the cell\'s gates) while the other processes leave both cores free (useKernelThreads(2), minMacs "auto"); ' +
      "bounds: 2 workers computing their halves with no collective, one thread computing half the batch alone, " +
      "and 2 bare threads computing their halves at once (no pmap, pool or shared memory: what the second core gives " +
      "on this machine; no 2-thread step of this batch beats it); " +
      "the Rewind rows run interleaved in a process of their own, the peers in this one (another framework's heap " +
      "in the process slows the two-thread rows: see bench/peers/workersSection.ts); " +
      "TF.js wasm and jax-js on one thread, the most Node gives them",
  });
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

const REWIND_ADD = ROW.add;
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

const targets = computeTargets(sections, firstRewind, firstJax);

// ---- print ------------------------------------------------------------------------------------

const totalS = (performance.now() - started) / 1e3;
const machine = `node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores; load average at end ${load()}; total ${totalS.toFixed(0)} s`;
log(`\n${"=".repeat(100)}\n${machine}\n`);
log(
  formatTable(
    header,
    tableRows(sections).map((r) => r.map((c) => c.replace(/\*\*/g, ""))),
    false,
  ),
);
log("");
log(formatTable(targetHeader, targetRows(targets), false));
log(
  "\nMedians are typical; minimums are what an unloaded machine approaches — if the machine was busy, trust the minimums more. " +
    "Per round: the median over the timed rounds of the two rows' ratio within each round (rows of one interleaved run); " +
    "a target with this column is judged by it.",
);
if (disagreement)
  log(
    "\nWARNING: some implementations disagree (see the check above); their times do not measure the same computation.",
  );

log(`\n---- markdown (paste into bench/peers/README.md) ----\n`);
log(`Command: \`pnpm bench:peers\`. Machine: ${machine}. TF.js ${tf.version.tfjs}, jax-js ${jaxVersion()}.\n`);
log(formatTable(header, tableRows(sections), true));
log("");
log(formatTable(targetHeader, targetRows(targets), true));
log("");
for (const c of checks) log(`- ${c}`);
process.exitCode = disagreement ? 1 : 0;
