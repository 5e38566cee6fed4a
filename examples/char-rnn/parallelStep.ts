/**
 * @file The worker module of `pnpm start --workers N` (@rewind/workers' `pmap` imports it in each
 * worker thread): the char-rnn training step on one shard of the batch's streams, with the loss
 * and the gradient averaged over the workers by `pmean` before clipping and Adam, so every worker
 * applies the same update and the parameters stay replicated.
 *
 * The configuration arrives as an argument (plain data in the pytree, no tensors); each worker
 * builds and jits the step for it once and reuses it for every call.
 */
import { jit, stopGradient, treeMap, valueAndGrad, type Value } from "@rewind/autodiff";
import { applyUpdates } from "@rewind/optim";
import { pmean } from "@rewind/workers";
import type { Config } from "./config.js";
import { cellOf, trainLoss, type Carry, type Params } from "./model.js";
import { makeOptimizer, type OptState } from "./optimizer.js";

const buildStep = (config: Config) => {
  const loss = trainLoss(cellOf(config.cell));
  const optimizer = makeOptimizer(config);
  return jit((params: Params, optState: OptState, carry: Carry, x: Value, y: Value) => {
    // Each chunk is its own graph: no gradient reaches earlier chunks (as in the one-worker step).
    const shardLoss = (p: Params) => loss(p, treeMap<Carry>(stopGradient, carry), x, y);
    const [[value, finalCarry], grads] = valueAndGrad(shardLoss, { hasAux: true })(params);
    // The loss and the gradient averaged in one collective: the workers meet once per step.
    const [meanValue, meanGrads] = pmean([value, grads] as const);
    const [updates, next] = optimizer.update(meanGrads, optState, params);
    return [applyUpdates(params, updates), next, meanValue, finalCarry] as const;
  });
};

const steps = new Map<string, ReturnType<typeof buildStep>>();

/**
 * One data-parallel step on this worker's streams: `[params', optState', mean loss, carry']`.
 * @example // run by pmap(new URL("./parallelStep.ts", import.meta.url), "parallelStep", …)
 */
export const parallelStep = (config: Config, params: Params, optState: OptState, carry: Carry, x: Value, y: Value) => {
  const key = JSON.stringify(config);
  let step = steps.get(key);
  if (step === undefined) {
    step = buildStep(config);
    steps.set(key, step);
  }
  return step(params, optState, carry, x, y);
};
