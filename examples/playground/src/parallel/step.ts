/**
 * @file The data-parallel training step that each shard worker runs on its rows of the batch:
 * the loss and its gradient on the shard, combined over the workers (`pmean`, or `psum` of
 * weighted shares when the task weighs its shards), then the same clipping and Adam update as the
 * one-thread session in every worker, so the parameters stay replicated.
 *
 * The configuration arrives as plain data; a worker builds the task and jits its step once per
 * configuration and keeps the last few (a user switching back and forth compiles nothing twice).
 */
import { div, jit, mul, valueAndGrad, type Jitted } from "@rewind/autodiff";
import { applyUpdates } from "@rewind/optim";
import type { Tensor } from "@rewind/tensor";
import { pmean, psum } from "@rewind/workers";
import type { RunConfig } from "../protocol.js";
import { optimizerFor } from "../session.js";
import { taskFor, type Datasets } from "../tasks/index.js";
import type { Task } from "../tasks/types.js";

/** What the step returns: the new parameters and optimizer state, and the whole batch's loss. */
export type StepResult<P, S> = readonly [params: P, optState: S, loss: Tensor];

/** The served function: `(config, params, optState, batch) → [params', optState', loss]`. */
export type ShardStep = (
  config: RunConfig,
  params: unknown,
  optState: unknown,
  batch: unknown,
) => StepResult<unknown, unknown>;

/**
 * The jitted data-parallel step of `task`. Outside a `pmap` call (one worker) it computes the
 * one-thread session's step bit for bit: the mean over one worker and a share of 1 are exact.
 * @example const [params2, optState2, loss] = dataParallelStep(task)(params, optState, shardOfBatch)
 */
export const dataParallelStep = <P, B>(task: Task<P, B>): Jitted<[P, unknown, B], StepResult<P, unknown>> => {
  const optimizer = optimizerFor(task);
  const { shardWeight } = task;
  return jit((params: P, optState: unknown, batch: B) => {
    let loss: Tensor;
    let grads: P;
    if (shardWeight === undefined) {
      // Every shard has the same number of rows and the loss is their mean: the mean of the means.
      const [value, g] = valueAndGrad(task.loss)(params, batch);
      [loss, grads] = pmean([value as Tensor, g] as const);
    } else {
      // The whole batch's loss is the shards' losses weighted by their share of the batch.
      const w = shardWeight(batch);
      const share = div(w, psum(w));
      const [value, g] = valueAndGrad((p: P) => mul(task.loss(p, batch), share))(params);
      [loss, grads] = psum([value as Tensor, g] as const);
    }
    const [updates, next] = optimizer.update(grads, optState as never, params);
    return [applyUpdates(params, updates), next, loss] as const;
  });
};

/** Compiled steps a worker keeps (one per configuration, the most recently used). */
const KEPT = 4;

/**
 * The step a shard worker serves for the tasks over `data`: it rebuilds the task of each
 * configuration it is sent and reuses its jitted step.
 * @example serve({ step: shardStep({ names, mobyDick }) }) // in shard.worker.ts
 */
export const shardStep = (data: Datasets): ShardStep => {
  const steps = new Map<string, ReturnType<typeof dataParallelStep<unknown, unknown>>>();
  return (config, params, optState, batch) => {
    // The seed draws parameters and batches, which arrive as arguments: the step does not depend on it.
    const key = JSON.stringify([config.task, config.cell, config.hidden]);
    let step = steps.get(key);
    if (step === undefined) step = dataParallelStep(taskFor(config, data));
    steps.delete(key); // re-inserted last: the map's order is the order of use
    steps.set(key, step);
    if (steps.size > KEPT) steps.delete(steps.keys().next().value!);
    return step(params, optState, batch);
  };
};
