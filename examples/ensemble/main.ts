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
 * Run:   pnpm example ensemble [--steps 600] [--hidden 32] [--seed 0]
 *        pnpm example ensemble --smoke        (a few steps)
 *
 * Prints: each model's test MAE (births/day), the MAE of the ensemble-averaged forecast, "same as
 * last week" beside them, the largest gap between a vmapped model and its sequential twin, and the
 * time of both trainings with their ratio.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import {
  jit,
  mean,
  reshape,
  slice,
  square,
  stack,
  sub,
  sum,
  treeMap,
  vmap,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import { gru, linear, manyToMany, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, trainStep } from "@rewind/optim";
import { FEATURES, features, loadBirths } from "../forecast/data.js";

const { smoke, int } = exampleFlags({ steps: "600", hidden: "32", seed: "0" });
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 3 : int("steps", 1);
const hiddenSize = smoke ? 4 : int("hidden", 1);
const seed = int("seed", 0);
const M = 8; //       models
const W = 56; //      window: 8 weeks
const WARMUP = 7; //  steps of each window not scored in training
const batchSize = smoke ? 8 : 32;

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

// ---- model: forecast's GRU with a linear readout --------------------------------------------------
const readout = linear(1);
interface Params {
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}
const initModel = (k: Key): Concrete<Params> => {
  const [kCell, kOut] = random.split(k, 2) as [Key, Key];
  return { cell: gru.init(kCell, { inputSize: FEATURES, hiddenSize }), out: readout.init(kOut, hiddenSize) };
};
const predict = (p: Params, xs: Value): Value => manyToMany(gru, p.cell, xs, { readout: readout.apply(p.out) }).outputs;
const loss = (p: Params, xs: Value, ys: Value): Value => {
  const scored = [null, { start: WARMUP, stop: W }] as const;
  return mean(square(sub(slice(predict(p, xs), scored), slice(ys, scored))));
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
const optimizer = adam({ learningRate: 3e-3 });
const ensembleLoss = (ps: Params, xs: Value, ys: Value): Value =>
  sum(vmap(loss, { inAxes: [0, null, null] })(ps, xs, ys));
let started = performance.now();
const [first, ...others] = kModels.map(initModel) as [Concrete<Params>, ...Concrete<Params>[]];
let stacked = treeMap<Concrete<Params>>((...leaves) => stack(leaves, 0), first, ...others);
let stackedState = optimizer.init(stacked);
const ensembleStep = trainStep(ensembleLoss, optimizer);
for (let step = 1; step <= steps; step++) {
  const b = batchAt(step);
  ({ params: stacked, optState: stackedState } = ensembleStep(stacked, stackedState, b.xs, b.ys));
}
const vmapped = rows(forecastAll(stacked, testSet.xs), M);
const vmappedSeconds = (performance.now() - started) / 1000;

// ---- the same 8 one after another -----------------------------------------------------------------
started = performance.now();
const singleStep = trainStep(loss, optimizer);
const sequential = kModels.map((k) => {
  let params = initModel(k);
  let optState = optimizer.init(params);
  for (let step = 1; step <= steps; step++) {
    const b = batchAt(step);
    ({ params, optState } = singleStep(params, optState, b.xs, b.ys));
  }
  return Float32Array.from(forecastOne(params, testSet.xs).data);
});
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
