/**
 * @file The worker module of the data-parallel benchmark: the char-rnn training step of
 * `pnpm start` (bench/charRnnStep.ts) with its gradient and loss averaged over the workers by
 * `pmean`, then clipping and Adam in every worker. Outside `pmap` (one worker) `pmean` is the
 * identity, so the same function is the single-thread baseline.
 */
import { jit, type Value } from "@rewind/autodiff";
import { applyUpdates } from "@rewind/optim";
import type { LstmCarry } from "@rewind/rnn";
import { pmean } from "@rewind/workers";
import { lossAndGradOf, makeOptimizer, type OptState, type Params } from "./charRnnStep.js";

const optimizer = makeOptimizer();

/** One data-parallel step: `(params, optState, carry, x, y)` → `[params', optState', loss, carry']`. */
export const parallelStep = jit((params: Params, optState: OptState, carry: LstmCarry, x: Value, y: Value) => {
  const [[loss, finalCarry], grads] = lossAndGradOf(params, carry, x, y);
  // The loss and the gradient averaged in one collective: the workers meet once per step.
  const [meanLoss, meanGrads] = pmean([loss, grads] as const);
  const [updates, next] = optimizer.update(meanGrads, optState, params);
  return [applyUpdates(params, updates), next, meanLoss, finalCarry] as const;
});
