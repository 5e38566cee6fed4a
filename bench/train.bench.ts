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
import { jit } from "@rewind/autodiff";
import { applyUpdates, trainStep } from "@rewind/optim";
import { BATCH, CHUNK, HIDDEN, loss, lossAndGradOf, setup } from "./charRnnStep.js";
import type { BenchSuite } from "./run.js";

const NAME = `char-rnn train step B=${BATCH} T=${CHUNK} H=${HIDDEN} f32, clip + Adam`;
const SPLIT = `${NAME}: split (jit(valueAndGrad) + eager update)`;
/** How every case is timed: 20–40 rounds, each timed call after one untimed call of its own, as in a loop. */
const TIMING = { minRepeats: 20, maxRepeats: 40, settle: 1 } as const;

export const suite: BenchSuite = {
  name: "train",
  cases: [
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
