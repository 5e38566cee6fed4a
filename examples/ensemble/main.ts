/**
 * @file ensemble: 8 forecasters of one architecture trained at once by `vmap` over stacked
 * parameters, against training the same 8 one after another.
 *
 * What it does: the task, data and model of `examples/forecast` (a GRU reads each day of US births
 * with the next day's calendar and predicts the next day's births; train 2000–2012, test
 * 2013–2014, each test day predicted from the 8 weeks before it). Eight models start from eight
 * seeds; their parameters are stacked on a leading axis of 8, and one jitted `trainStep` trains
 * them all: the loss is the sum over models of `vmap(loss, { inAxes: [0, null, null] })` (stacked
 * params, the batch shared), so each model gets exactly its own gradient, and Adam, elementwise,
 * updates each model as if it were alone. No global-norm clipping (forecast clips at 1): a global
 * norm over the stack would couple the models. Then the same 8 models are trained one after
 * another with the unbatched loss, on the same batches and steps, timed the same way.
 *
 * Run:   pnpm example ensemble [--steps 600] [--hidden 32] [--seed 0] [--workers 1]
 *        pnpm example ensemble --smoke        (a few steps)
 *
 * `--workers N` (N dividing the batch: 32, or 8 with --smoke) runs both trainings' steps on N
 * worker threads, B / N windows each, their gradients averaged: the same forecasts as one worker
 * within float rounding (not bit for bit: the mean is summed in another order); bit-reproducible
 * for a given N.
 *
 * Prints: each model's test MAE (births/day), the MAE of the ensemble-averaged forecast, "same as
 * last week" beside them, the largest gap between a vmapped model and its sequential twin, and the
 * time of both trainings with their ratio.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { trainer } from "../shared/trainer.js";
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { jit, reshape, slice, stack, treeMap, vmap, type Concrete, type Value } from "@rewind/autodiff";
import { gru } from "@rewind/rnn";
import { FEATURES, features, loadBirths } from "../forecast/data.js";
import { predict, readout, W, type Params } from "../forecast/step.js";
import { build } from "./step.js";

const flags = exampleFlags({ steps: "600", hidden: "32", seed: "0" }, { workers: true });
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 3 : int("steps", 1);
const hiddenSize = smoke ? 4 : int("hidden", 1);
const seed = int("seed", 0);
const M = 8; //       models
const batchSize = smoke ? 8 : 32;
const workers = flags.workers(batchSize, smoke ? "fixed by --smoke" : "fixed in this example");

// ---- data: forecast's --------------------------------------------------------------------------
const days = loadBirths();
const testStart = days.findIndex((d) => d.year >= 2013);
const trainBirths = days.slice(0, testStart).map((d) => d.births);
const mu = trainBirths.reduce((a, b) => a + b) / trainBirths.length;
const sd = Math.sqrt(trainBirths.reduce((a, b) => a + (b - mu) ** 2, 0) / trainBirths.length);
const { xs: allXs, ys: allYs } = features(days, mu, sd);
/** Windows of W steps ending at the given steps: xs [B, W, FEATURES], ys [B, W, 1]. */
const windows = (lastSteps: readonly number[]): { xs: Tensor; ys: Tensor } => {
  const xs = new Float32Array(lastSteps.length * W * FEATURES);
  const ys = new Float32Array(lastSteps.length * W);
  lastSteps.forEach((last, b) => {
    xs.set(allXs.subarray((last - W + 1) * FEATURES, (last + 1) * FEATURES), b * W * FEATURES);
    ys.set(allYs.subarray(last - W + 1, last + 1), b * W);
  });
  return {
    xs: fromDataOrThrow(xs, [lastSteps.length, W, FEATURES], "float32"),
    ys: fromDataOrThrow(ys, [lastSteps.length, W, 1], "float32"),
  };
};
const testDays = Array.from({ length: smoke ? 64 : days.length - testStart }, (_, i) => testStart + i);
const testSet = windows(testDays.map((d) => d - 1));
const [kData, ...kModels] = random.split(random.key(seed), M + 1) as [Key, ...Key[]];
const batchAt = (step: number) => {
  const u = random.uniform(random.foldIn(kData, step), [batchSize], { dtype: "float64" }).data;
  return windows(Array.from(u, (r) => W - 1 + Math.floor(r * (testStart - W))));
};

// ---- model: forecast's GRU with a linear readout (../forecast/step.ts) ----------------------------
const initModel = (k: Key): Concrete<Params> => {
  const [kCell, kOut] = random.split(k, 2) as [Key, Key];
  return { cell: gru.init(kCell, { inputSize: FEATURES, hiddenSize }), out: readout.init(kOut, hiddenSize) };
};
const lastStep = (p: Params, xs: Value): Value =>
  reshape(slice(predict(p, xs), [null, { start: W - 1, stop: W }]), [xs.shape[0]!]);
/** Births/day forecast for each test day by each model: M rows. */
const forecastAll = jit(vmap(lastStep, { inAxes: [0, null] }));
const forecastOne = jit(lastStep);
const rows = (t: Tensor, n: number): Float32Array[] =>
  Array.from({ length: n }, (_, m) =>
    (t.data as Float32Array).subarray(m * testDays.length, (m + 1) * testDays.length),
  );
const mae = (z: ArrayLike<number>): number =>
  testDays.reduce((a, d, i) => a + Math.abs(z[i]! * sd + mu - days[d]!.births), 0) / testDays.length;

// ---- the 8 at once: stacked params, one jitted step ----------------------------------------------
// (step.ts; with --workers N each worker runs it on B / N windows and the gradients are averaged)
const module = new URL("./step.ts", import.meta.url);
let started = performance.now();
const [first, ...others] = kModels.map(initModel) as [Concrete<Params>, ...Concrete<Params>[]];
const stacked = treeMap<Concrete<Params>>((...leaves) => stack(leaves, 0), first, ...others);
const ensemble = trainer({
  workers,
  module,
  build,
  config: { ensemble: true },
  params: stacked,
});
for (let step = 1; step <= steps; step++) {
  const b = batchAt(step);
  await ensemble.step(b.xs, b.ys);
}
const vmapped = rows(forecastAll(ensemble.params(), testSet.xs), M);
await ensemble.close();
const vmappedSeconds = (performance.now() - started) / 1000;

// ---- the same 8 one after another -----------------------------------------------------------------
started = performance.now();
const sequential: Float32Array[] = [];
for (const k of kModels) {
  const single = trainer({
    workers,
    module,
    build,
    config: { ensemble: false },
    params: initModel(k),
  });
  for (let step = 1; step <= steps; step++) {
    const b = batchAt(step);
    await single.step(b.xs, b.ys);
  }
  sequential.push(Float32Array.from(forecastOne(single.params(), testSet.xs).data));
  await single.close();
}
const sequentialSeconds = (performance.now() - started) / 1000;

// ---- report --------------------------------------------------------------------------------------
const each = vmapped.map(mae);
const averaged = mae(testDays.map((_, i) => vmapped.reduce((a, r) => a + r[i]!, 0) / M));
const naive = testDays.reduce((a, d) => a + Math.abs(days[d - 7]!.births - days[d]!.births), 0) / testDays.length;
const gap = Math.max(...vmapped.map((r, m) => Math.max(...r.map((z, i) => Math.abs(z - sequential[m]![i]!) * sd))));
console.log(
  `${M} GRU forecasters (hidden ${hiddenSize}), ${steps} steps of batch ${batchSize}, test on ${testDays.length} days`,
);
console.log(`  each model's test MAE (births/day): ${each.map((e) => e.toFixed(0)).join(", ")}`);
console.log(
  `  best ${Math.min(...each).toFixed(0)}, mean ${(each.reduce((a, b) => a + b) / M).toFixed(0)}; ` +
    `ensemble-averaged forecast ${averaged.toFixed(0)}; "same as last week" ${naive.toFixed(0)}`,
);
console.log(
  `  largest gap between a vmapped model's forecast and its sequential twin: ${gap.toExponential(2)} births/day`,
);
console.log(
  `  training time: vmapped ${vmappedSeconds.toFixed(1)} s, one after another ${sequentialSeconds.toFixed(1)} s ` +
    `(${(sequentialSeconds / vmappedSeconds).toFixed(2)}× faster vmapped)`,
);
