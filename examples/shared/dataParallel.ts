/**
 * @file The data-parallel training step of the examples that take `--workers N`, as a worker
 * module can export it: each worker computes the loss and gradient of its shard of the batch, the
 * collectives of @rewind/workers combine them in worker order, and every worker applies the same
 * optimizer update, so the parameters stay replicated.
 *
 * A worker cannot receive a closure, so an example's step module exports
 * `dataParallelStep(build)`: `build` makes the loss and the optimizer from plain configuration
 * data (the first argument of every call), and each worker builds and jits the step once per
 * configuration. The one-worker path (`trainer` in shared/trainer.ts) calls the same `build` and
 * runs today's `trainStep`, so a run without `--workers` is unchanged.
 */
import { astype, div, jit, mul, sum, valueAndGrad, type Jitted, type Value } from "@rewind/autodiff";
import { applyUpdates, type GradientTransformation } from "@rewind/optim";
import { pmean, psum } from "@rewind/workers";

/** What a step is made of: the mean loss of a batch and the optimizer. */
export interface StepSpec<P, S, Batch extends unknown[]> {
  /** The batch's mean loss. */
  readonly loss: (params: P, ...batch: Batch) => Value;
  readonly optimizer: GradientTransformation<S>;
  /**
   * How many scored items the loss averages over in this batch, when shards can differ (e.g. the
   * valid steps of padded sequences: {@link validSteps}). Without it every row weighs the same and
   * the workers' losses and gradients are averaged with `pmean`; with it each worker's mean is
   * weighted by its share of the items and summed with `psum`, which is the whole batch's mean.
   */
  readonly weight?: (...batch: Batch) => Value;
}

/**
 * The weight of a padded batch for {@link StepSpec.weight}: the number of valid steps, from the
 * int32 `[B]` lengths (what `sequenceCrossEntropy` divides by).
 * @example weight: (b: Batch) => validSteps(b.targets.lengths)
 */
export const validSteps = (lengths: Value): Value => sum(astype(lengths, "float32"));

/** The step one worker runs: `[params', optState', the whole batch's loss]`. */
export type WorkerStep<C, P, S, Batch extends unknown[]> = (
  config: C,
  params: P,
  optState: S,
  ...batch: Batch
) => readonly [P, S, Value];

/**
 * A step module's export for `pmap`: the step of `build(config)` on this worker's shard, jitted
 * once per configuration (its JSON) and reused by every call.
 * @example
 * // step.ts (imported by the workers and by main.ts)
 * export const build = (c: { lr: number }) => ({ loss, optimizer: adam({ learningRate: c.lr }) });
 * export const parallelStep = dataParallelStep(build);
 */
export const dataParallelStep = <C, P, S, Batch extends unknown[]>(
  build: (config: C) => StepSpec<P, S, Batch>,
): WorkerStep<C, P, S, Batch> => {
  const steps = new Map<string, Jitted<[P, S, ...Batch], readonly [P, S, Value]>>();
  const make = ({ loss, optimizer, weight }: StepSpec<P, S, Batch>) =>
    jit((params: P, optState: S, ...batch: Batch): readonly [P, S, Value] => {
      let value: Value, grads: P;
      if (weight === undefined) {
        // Equal shards of equal rows: the batch's mean is the mean of the shards' means.
        const [v, g] = valueAndGrad((p: P) => loss(p, ...batch))(params);
        // One collective for the loss and every gradient leaf (one meeting of the workers, not two).
        [value, grads] = pmean([v, g] as const);
      } else {
        // Shards with different numbers of items: each mean weighted by its share, then summed.
        const w = weight(...batch);
        const share = div(w, psum(w));
        const [v, g] = valueAndGrad((p: P) => mul(loss(p, ...batch), share))(params);
        [value, grads] = psum([v, g] as const);
      }
      const [updates, next] = optimizer.update(grads, optState, params);
      return [applyUpdates(params, updates), next, value] as const;
    });
  return (config, params, optState, ...batch) => {
    const key = JSON.stringify(config);
    let step = steps.get(key);
    if (step === undefined) {
      step = make(build(config));
      steps.set(key, step);
    }
    return step(params, optState, ...batch);
  };
};
