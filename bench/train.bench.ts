/**
 * @file Benchmark of a whole training step: the char-rnn step of `pnpm start` (charRnnStep.ts:
 * B 32, T 64, LSTM 128, clipping and Adam under a cosine decay, float32), run two ways:
 *
 * - **split**: `jit(valueAndGrad(loss))` for the loss and gradient, then the optimizer update and
 *   `applyUpdates` eagerly, op by op (how every example trained before the optimizer state was
 *   made of tensors: a jitted update used to retrace at every step);
 * - **one jit**: `trainStep` of @rewind/optim, as `pnpm start` runs it: loss, gradient, clipping,
 *   Adam and `applyUpdates` traced once into one compiled program, the old parameters and
 *   optimizer state donated so their buffers are reused.
 *
 * Both run from the same parameters and data; the one-jit case is the split case's ratio. A third
 * case times the jitted loss and gradient alone: the floor of both steps, and of their ratio.
 * `pnpm bench:alloc` measures the same step's allocations per call, with and without donation.
 */
import * as T from "@rewind/tensor";
import { add, jit, mul, sum, treeLeaves, type Value } from "@rewind/autodiff";
import { applyUpdates, trainStep } from "@rewind/optim";
import { BATCH, CHUNK, HIDDEN, loss, lossAndGradOf, makeOptimizer, setup } from "./charRnnStep.js";
import type { BenchSuite } from "./run.js";

const NAME = `char-rnn train step B=${BATCH} T=${CHUNK} H=${HIDDEN} f32, clip + Adam`;
const SPLIT = `${NAME}: split (jit(valueAndGrad) + eager update)`;
/** How every case is timed: 20–40 rounds, each timed call after one untimed call of its own, as in a loop. */
const TIMING = { minRepeats: 20, maxRepeats: 40, settle: 1 } as const;

/**
 * `trainStep`'s cost per call apart from its arithmetic: a model with the char-rnn's seven
 * parameter leaves, each 2×2, so that the 24 leaves of parameters, Adam's state and the batch are
 * flattened, looked up, checked, donated and rebuilt at every call while the compiled program
 * itself does almost nothing. Timed over 100 calls.
 */
const overheadCase = {
  name: "per-call overhead: 100 calls of trainStep on 7 leaves of 2×2 (clip + Adam, donated)",
  minRepeats: 20,
  setup: () => {
    const leaf = (k: number) => T.random.uniform(T.random.key(k), [2, 2], { min: -1, max: 1 });
    const params = {
      embed: { weight: leaf(1) },
      cell: { weight_ih: leaf(2), weight_hh: leaf(3), bias_ih: leaf(4), bias_hh: leaf(5) },
      readout: { weight: leaf(6), bias: leaf(7) },
    };
    const x = leaf(9);
    const tinyLoss = (p: typeof params, batch: Value): Value =>
      treeLeaves(p)
        .map((w) => sum(mul(w, batch)))
        .reduce((total, term) => add(total, term));
    const optimizer = makeOptimizer();
    const step = trainStep(tinyLoss, optimizer);
    let state = { params, optState: optimizer.init(params) };
    return () => {
      for (let i = 0; i < 100; i++) state = step(state.params, state.optState, x);
      return state.params;
    };
  },
};

export const suite: BenchSuite = {
  name: "train",
  cases: [
    overheadCase,
    {
      name: SPLIT,
      ...TIMING,
      setup: () => {
        const s = setup();
        const lossAndGrad = jit(lossAndGradOf);
        let { params, optState } = s;
        return () => {
          const [[value], grads] = lossAndGrad(params, s.carry, s.x, s.y);
          const [updates, next] = s.optimizer.update(grads, optState, params);
          params = applyUpdates(params, updates);
          optState = next;
          return value;
        };
      },
    },
    {
      // Both steps compute this and then update; the one jit can get no closer to it than its
      // update's cost inside the program, so its ratio to the split step bounds theirs.
      name: `${NAME}: bound: jit(valueAndGrad) alone, no update`,
      baseline: SPLIT,
      ...TIMING,
      setup: () => {
        const s = setup();
        const lossAndGrad = jit(lossAndGradOf);
        return () => lossAndGrad(s.params, s.carry, s.x, s.y)[0][0];
      },
    },
    {
      name: `${NAME}: one jit (trainStep, donated)`,
      baseline: SPLIT,
      ...TIMING,
      setup: () => {
        const s = setup();
        const step = trainStep(loss, s.optimizer, { hasAux: true });
        let { params, optState } = s;
        return () => {
          const r = step(params, optState, s.carry, s.x, s.y);
          ({ params, optState } = r);
          return r.loss;
        };
      },
    },
  ],
};
