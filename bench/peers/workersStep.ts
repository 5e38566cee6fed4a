/**
 * @file The worker module of the data-parallel rows of `pnpm bench:peers`: the LSTM workload's
 * jitted loss and gradient with the gradient and loss averaged over the workers by `pmean`.
 * Outside `pmap` (one worker) `pmean` is the identity, so the same function is the one-thread row.
 */
import { jit, valueAndGrad, type Value } from "@rewind/autodiff";
import { pmean } from "@rewind/workers";
import { lstmLoss, type LstmModel } from "./rewind.js";

/** `[loss, gradient]` of the LSTM workload on this worker's rows, averaged over the workers (not jitted). */
export const lstmMeanGradOf = (model: LstmModel, xs: Value, ys: Value) => {
  const [loss, grads] = valueAndGrad(lstmLoss(xs, ys))(model);
  return [pmean(loss), pmean(grads)] as const;
};

/** `lstmMeanGradOf`, jitted. */
export const lstmMeanGrad = jit(lstmMeanGradOf);
