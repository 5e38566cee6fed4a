/**
 * @file custom-cell: a recurrent cell written from plain ops with `defineCell`, checked against
 * the RNN laws with `cellLaws`, then trained.
 *
 * What it does: defines the Independently Recurrent Neural Network cell (IndRNN, Li et al. 2018),
 * which is not built into @rewind/rnn. Each hidden unit feeds back only to itself, through one
 * recurrent weight per unit instead of a matrix:
 *
 *     h' = relu(W x + b + u ⊙ h)
 *
 * `cellLaws` then checks it in one call: BPTT (the derived gradient equals an unrolled loop and
 * finite differences), reverse, remat/unroll/jit invariance, padding, bidirectional padding,
 * stacking and vmap (the cell vmapped over the batch equals `rnn` over it). Nothing else is needed for the cell to get every layer shape: it is trained
 * many-to-one (`manyToOne` + a linear readout) on the adding problem (Hochreiter & Schmidhuber
 * 1997, IndRNN's first benchmark): each step reads a random number in [0, 1] and a marker; the
 * target is the sum of the two marked numbers, one marked in each half of the sequence. Always
 * answering 1 has mean squared error 1/6 ≈ 0.167; a model that solves it gets near 0.
 *
 * Run:   pnpm example custom-cell [--steps 1500] [--time 50] [--lr 2e-3] [--seed 0] [--workers 1]
 *        pnpm example custom-cell --smoke        (the laws, then a few training steps)
 *
 * `--workers N` (N dividing 32) runs each training step on N worker threads, 32 / N sequences each,
 * their gradients averaged: the same losses as one worker within float rounding (not bit for bit:
 * the mean is summed in another order); bit-reproducible for a given N.
 *
 * Prints: the laws checked and how long they took; the training MSE every --eval steps next to the
 * held-out MSE and the 0.167 baseline; a few held-out sums with the model's answers; the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { trainer } from "../shared/trainer.js";
import { item, random, type Key } from "@rewind/tensor";
import { jit, type Concrete } from "@rewind/autodiff";
import { cellLaws } from "@rewind/testing";
import { addingProblem } from "./adding.js";
import { indRnn } from "./indRnn.js";
import { build, model, mse, predict, readout, type Params } from "./step.js";

const flags = exampleFlags({ steps: "1500", time: "50", eval: "250", lr: "2e-3", seed: "0" }, { workers: true });
const { smoke, int, text } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const time = smoke ? 10 : int("time", 4);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const hiddenSize = smoke ? 8 : 32;
const batchSize = 32;
const workers = flags.workers(batchSize, "fixed in this example");

// ---- the cell: IndRNN, in a dozen lines (indRnn.ts) -----------------------------------------
// ---- the laws: one line, every configuration (layouts, directions, padded lengths) -------------
let t0 = performance.now();
cellLaws(indRnn, { sizes: { inputSize: 2, hiddenSize: 3 } });
console.log(
  `indRnn satisfies the RNN laws (BPTT vs unrolled and finite differences, reverse, invariance, padding, bidirectional padding, stacking, vmap) — checked in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// ---- training on the adding problem ----------------------------------------------------------
// Two stacked IndRNN layers and a linear readout (step.ts: the workers of --workers N import it).
const [kCell, kOut, kData] = random.split(random.key(seed), 3) as [Key, Key, Key];
const initial: Concrete<Params> = {
  cells: model.init(kCell, { inputSize: 2, hiddenSize }),
  out: readout.init(kOut, hiddenSize),
};

const heldOut = addingProblem(random.key(999), 500, time); // fixed, whatever the seed
const heldMse = jit(mse);
const heldPredict = jit(predict);

const learningRate = Number(text("lr"));
if (!(learningRate > 0)) throw new Error(`--lr must be a positive number, got ${text("lr")}`);
// Loss, gradient, clipping, Adam (its rate annealed to a tenth over the run) and applyUpdates as
// one jitted program, traced once; with --workers N each worker runs it on 32 / N sequences and
// the gradients are averaged (pmean).
const training = trainer({
  workers,
  module: new URL("./step.ts", import.meta.url),
  build,
  config: { learningRate, steps },
  params: initial,
});

console.log(`\nadding problem, ${time} steps per sequence; always answering 1 gives MSE ${(1 / 6).toFixed(3)}`);
t0 = performance.now();
let running = NaN;
for (let step = 1; step <= steps; step++) {
  const { xs, ys } = addingProblem(random.foldIn(kData, step), batchSize, time);
  const loss = await training.step(xs, ys);
  running = Number.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
  if (step % evalEvery === 0 || step === steps) {
    const s = (performance.now() - t0) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train MSE ${running.toFixed(4)}  held-out MSE ${item(heldMse(training.params(), heldOut.xs, heldOut.ys)).toFixed(4)}  (baseline 0.167)  [${s.toFixed(0)} s]`,
    );
  }
}
const params = training.params();
await training.close();
const answers = heldPredict(params, heldOut.xs).data;
console.log(
  `\nheld-out sums (target → model): ${Array.from({ length: 5 }, (_, i) => `${heldOut.ys.data[i]!.toFixed(3)} → ${answers[i]!.toFixed(3)}`).join(", ")}`,
);
console.log(
  `held-out MSE ${item(heldMse(params, heldOut.xs, heldOut.ys)).toFixed(4)} vs 0.167 for always answering 1, after ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
