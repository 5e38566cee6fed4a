/**
 * @file custom-cell's model and training step, in a module of its own so that `--workers N` can
 * run the step in worker threads (they import this file, never main.ts, which trains at its top level).
 */
import { mean, reshape, square, sub, type Value } from "@rewind/autodiff";
import { linear, manyToOne, stack, type LinearParams, type ParamsOf } from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, cosineDecay } from "@rewind/optim";
import { dataParallelStep } from "../shared/dataParallel.js";
import { indRnn } from "./indRnn.js";

// Two layers, as in the IndRNN paper: units only feed back to themselves, so one layer cannot
// both pick out the marked values and add them up; the first can gate, the second accumulate.
export const model = stack([indRnn, indRnn]);
export const readout = linear(1);
export interface Params {
  readonly cells: ParamsOf<typeof model>;
  readonly out: LinearParams;
}

/**
 * The predicted sum of each sequence: [B].
 * @example predict(params, heldOut.xs)
 */
export const predict = (p: Params, xs: Value): Value =>
  reshape(readout.apply(p.out)(manyToOne(model, p.cells, xs).output), [xs.shape[0]!]);

/**
 * The mean squared error of the predicted sums.
 * @example mse(params, xs, ys)
 */
export const mse = (p: Params, xs: Value, ys: Value): Value => mean(square(sub(predict(p, xs), ys)));

/** What the optimizer depends on: the peak learning rate and the run's length (its cosine decay). */
export interface StepConfig {
  readonly learningRate: number;
  readonly steps: number;
}

/**
 * The loss and the optimizer: the learning rate anneals to a tenth over the run, so the last
 * steps settle instead of jitter.
 * @example trainStep(build(config).loss, build(config).optimizer)
 */
export const build = (c: StepConfig) => ({
  loss: mse,
  optimizer: chain(
    clipByGlobalNorm(1),
    adam({ learningRate: cosineDecay({ initValue: c.learningRate, decaySteps: c.steps, alpha: 0.1 }) }),
  ),
});

/** The step a worker runs on its sequences (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
