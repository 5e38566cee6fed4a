/**
 * @file ensemble's training steps (the 8 models stacked, or one model), in a module of its own so
 * that `--workers N` can run them in worker threads (they import this file, never main.ts, which
 * trains at its top level). The model and its loss are forecast's (../forecast/step.ts).
 */
import { sum, vmap, type Value } from "@rewind/autodiff";
import { adam } from "@rewind/optim";
import { dataParallelStep } from "../shared/dataParallel.js";
import { loss, type Params } from "../forecast/step.js";

/**
 * The sum over the stacked models of each one's loss (params with a leading model axis, the batch
 * shared), so each model gets exactly its own gradient.
 * @example trainStep(ensembleLoss, adam({ learningRate: 3e-3 }))
 */
export const ensembleLoss = (ps: Params, xs: Value, ys: Value): Value =>
  sum(vmap(loss, { inAxes: [0, null, null] })(ps, xs, ys));

/**
 * The loss (the stacked models' or one model's) and Adam. No global-norm clipping: a global norm
 * over the stack would couple the models.
 * @example trainStep(build({ ensemble: true }).loss, build({ ensemble: true }).optimizer)
 */
export const build = (c: { readonly ensemble: boolean }) => ({
  loss: c.ensemble ? ensembleLoss : loss,
  optimizer: adam({ learningRate: 3e-3 }),
});

/** The step a worker runs on its windows (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
