/**
 * @file forecast's model and training step, in a module of its own so that `--workers N` can run
 * the step in worker threads (they import this file, never main.ts, which trains at its top level).
 */
import { mean, slice, square, sub, type Value } from "@rewind/autodiff";
import { gru, linear, manyToMany, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm } from "@rewind/optim";
import { dataParallelStep } from "../shared/dataParallel.js";

export const W = 56; //     window: 8 weeks
export const WARMUP = 7; // steps of each window not scored in training

export const readout = linear(1);
export interface Params {
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}

/**
 * One prediction per step: [B, W, 1], the next day's normalised births.
 * @example predict(params, windows.xs)
 */
export const predict = (p: Params, xs: Value): Value =>
  manyToMany(gru, p.cell, xs, { readout: readout.apply(p.out) }).outputs;

/**
 * The mean squared error over every step of every window after its first week.
 * @example loss(params, batch.xs, batch.ys)
 */
export const loss = (p: Params, xs: Value, ys: Value): Value => {
  const scored = [null, { start: WARMUP, stop: W }] as const; // skip each window's first week
  return mean(square(sub(slice(predict(p, xs), scored), slice(ys, scored))));
};

/**
 * The loss and the optimizer (nothing to configure: the configuration is empty).
 * @example trainStep(build({}).loss, build({}).optimizer)
 */
export const build = (_config: Record<string, never>) => ({
  loss,
  optimizer: chain(clipByGlobalNorm(1), adam({ learningRate: 3e-3 })),
});

/** The step a worker runs on its windows (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
