/**
 * @file The worker module of the data-parallel rows of `pnpm bench:peers`: the LSTM workload's
 * jitted loss and gradient with the gradient and loss averaged over the workers by `pmean`.
 * Outside `pmap` (one worker) `pmean` is the identity, so the same function is the one-thread row.
 * `lstmShardGrad` is the same step without any collective, for the rows that bound what data
 * parallelism can reach on this machine.
 */
import { expandDims, jit, treeMap, valueAndGrad, type Value } from "@rewind/autodiff";
import { pmean } from "@rewind/workers";
import { lstmLoss, type LstmModel } from "./rewind.js";

/** `[loss, gradient]` of the LSTM workload on this worker's rows, averaged over the workers (not jitted). */
export const lstmMeanGradOf = (model: LstmModel, xs: Value, ys: Value) => {
  const [loss, grads] = valueAndGrad(lstmLoss(xs, ys))(model);
  // One collective for both (the workers meet once): 0.3–0.8 ms less per B 32 step than two.
  return pmean([loss, grads] as const);
};

/** `lstmMeanGradOf`, jitted. */
export const lstmMeanGrad = jit(lstmMeanGradOf);

/**
 * Each worker's own loss and gradient on its rows, with no collective: every leaf gets a leading
 * axis so that pmap joins the workers' results (`outAxes: 0`); their mean over that axis is
 * `lstmMeanGrad`'s result. Two workers running this take as long as the slower of two concurrent
 * half-batch steps: the bound of a data-parallel step here, whatever the collectives cost.
 */
export const lstmShardGrad = jit((model: LstmModel, xs: Value, ys: Value) => {
  const [loss, grads] = valueAndGrad(lstmLoss(xs, ys))(model);
  return [expandDims(loss, 0), treeMap<LstmModel>((g: Value) => expandDims(g, 0), grads)] as const;
});
