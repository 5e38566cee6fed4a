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
 * Run:   pnpm example custom-cell [--steps 1500] [--time 50] [--lr 2e-3] [--seed 0]
 *        pnpm example custom-cell --smoke        (the laws, then a few training steps)
 *
 * Prints: the laws checked and how long they took; the training MSE every --eval steps next to the
 * held-out MSE and the 0.167 baseline; a few held-out sums with the model's answers; the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { item, random, zeros, type Key } from "@rewind/tensor";
import {
  add,
  jit,
  matmul,
  mean,
  mul,
  relu,
  reshape,
  square,
  sub,
  transpose,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import { defineCell, linear, manyToOne, stack, type LinearParams, type ParamsOf } from "@rewind/rnn";
import { cellLaws } from "@rewind/testing";
import { adam, chain, clipByGlobalNorm, cosineDecay, trainStep } from "@rewind/optim";
import { addingProblem } from "./adding.js";

const { smoke, int, text } = exampleFlags({ steps: "1500", time: "50", eval: "250", lr: "2e-3", seed: "0" });
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const time = smoke ? 10 : int("time", 4);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const hiddenSize = smoke ? 8 : 32;
const batchSize = 32;

// ---- the cell: IndRNN, in a dozen lines ------------------------------------------------------
interface IndRnnParams {
  readonly weight: Value; // [H, in]
  readonly bias: Value; //   [H]
  readonly u: Value; //      [H], one recurrent weight per unit
}
const indRnn = defineCell<IndRnnParams, Value>({
  name: "indRnn",
  init: (key, { inputSize, hiddenSize: h }, { dtype = "float32" }) => {
    const [kw, ku] = random.split(key, 2) as [Key, Key];
    const k = 1 / Math.sqrt(inputSize);
    return {
      weight: random.uniform(kw, [h, inputSize], { min: -k, max: k, dtype }),
      bias: zeros([h], dtype),
      // Recurrent weights in [0, 1): each unit starts as a leaky memory of its own past.
      u: random.uniform(ku, [h], { min: 0, max: 1, dtype }),
    };
  },
  initialCarry: (batch, p) => zeros([batch, p.u.shape[0]!], p.u.dtype),
  step: (p, h, x) => {
    const hNext = relu(add(add(matmul(x, transpose(p.weight)), p.bias), mul(p.u, h)));
    return [hNext, hNext];
  },
  outputSize: (p) => p.u.shape[0]!,
  inputSize: (p) => p.weight.shape[1]!,
});

// ---- the laws: one line, every configuration (layouts, directions, padded lengths) -------------
let t0 = performance.now();
cellLaws(indRnn, { sizes: { inputSize: 2, hiddenSize: 3 } });
console.log(
  `indRnn satisfies the RNN laws (BPTT vs unrolled and finite differences, reverse, invariance, padding, bidirectional padding, stacking, vmap) — checked in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// ---- training on the adding problem ----------------------------------------------------------
// Two layers, as in the IndRNN paper: units only feed back to themselves, so one layer cannot
// both pick out the marked values and add them up; the first can gate, the second accumulate.
const model = stack([indRnn, indRnn]);
const readout = linear(1);
interface Params {
  readonly cells: ParamsOf<typeof model>;
  readonly out: LinearParams;
}
const [kCell, kOut, kData] = random.split(random.key(seed), 3) as [Key, Key, Key];
let params: Concrete<Params> = {
  cells: model.init(kCell, { inputSize: 2, hiddenSize }),
  out: readout.init(kOut, hiddenSize),
};

const predict = (p: Params, xs: Value): Value =>
  reshape(readout.apply(p.out)(manyToOne(model, p.cells, xs).output), [xs.shape[0]!]);
const mse = (p: Params, xs: Value, ys: Value): Value => mean(square(sub(predict(p, xs), ys)));
const heldOut = addingProblem(random.key(999), 500, time); // fixed, whatever the seed
const heldMse = jit(mse);
const heldPredict = jit(predict);

const learningRate = Number(text("lr"));
if (!(learningRate > 0)) throw new Error(`--lr must be a positive number, got ${text("lr")}`);
// The learning rate anneals to a tenth over the run, so the last steps settle instead of jitter.
const optimizer = chain(
  clipByGlobalNorm(1),
  adam({ learningRate: cosineDecay({ initValue: learningRate, decaySteps: steps, alpha: 0.1 }) }),
);
let optState = optimizer.init(params);
// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once.
const trainingStep = trainStep(mse, optimizer);

console.log(`\nadding problem, ${time} steps per sequence; always answering 1 gives MSE ${(1 / 6).toFixed(3)}`);
t0 = performance.now();
let running = NaN;
for (let step = 1; step <= steps; step++) {
  const { xs, ys } = addingProblem(random.foldIn(kData, step), batchSize, time);
  const result = trainingStep(params, optState, xs, ys); // gives up the old params and optState (donated)
  ({ params, optState } = result);
  running = Number.isNaN(running) ? item(result.loss) : 0.95 * running + 0.05 * item(result.loss);
  if (step % evalEvery === 0 || step === steps) {
    const s = (performance.now() - t0) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train MSE ${running.toFixed(4)}  held-out MSE ${item(heldMse(params, heldOut.xs, heldOut.ys)).toFixed(4)}  (baseline 0.167)  [${s.toFixed(0)} s]`,
    );
  }
}
const answers = heldPredict(params, heldOut.xs).data;
console.log(
  `\nheld-out sums (target → model): ${Array.from({ length: 5 }, (_, i) => `${heldOut.ys.data[i]!.toFixed(3)} → ${answers[i]!.toFixed(3)}`).join(", ")}`,
);
console.log(
  `held-out MSE ${item(heldMse(params, heldOut.xs, heldOut.ys)).toFixed(4)} vs 0.167 for always answering 1, after ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
