/**
 * @file The `parallel` example's training steps, in a module of their own so that `--workers N`
 * can run them in worker threads (they import this file, never main.ts, which trains at its top
 * level). The models are model.ts's.
 */
import type { Value } from "@rewind/autodiff";
import { adam, chain, clipByGlobalNorm } from "@rewind/optim";
import { dataParallelStep, type StepSpec } from "../shared/dataParallel.js";
import { lstmLogits, meanLoss, minGruLogits } from "./model.js";

/** Which model (and for the minGRU, which form) and Adam's rate. */
export interface StepConfig {
  readonly model: "minGru parallel" | "minGru sequential" | "lstm";
  readonly lr: number;
}

/**
 * The model's mean loss (nats/char) and the optimizer: Adam with global-norm clipping at 1.
 * @example trainStep(build(config).loss, build(config).optimizer)
 */
export const build = (c: StepConfig): StepSpec<unknown, unknown, [Value, Value]> => ({
  loss: (c.model === "lstm"
    ? meanLoss(lstmLogits)
    : meanLoss(minGruLogits(c.model === "minGru parallel" ? "parallel" : "sequential"))) as (
    p: unknown,
    x: Value,
    y: Value,
  ) => Value,
  optimizer: chain(clipByGlobalNorm(1), adam({ learningRate: c.lr })),
});

/** The step a worker runs on its chunks (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
