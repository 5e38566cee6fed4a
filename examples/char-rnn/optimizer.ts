/**
 * @file The char-rnn optimizer, shared by the one-thread step (train.ts) and the data-parallel
 * step (parallelStep.ts).
 */
import { adam, chain, clipByGlobalNorm, cosineDecay, type StateOf } from "@rewind/optim";
import type { Config } from "./config.js";

/**
 * Clip first (PyTorch's clip_grad_norm_ before optimizer.step()), then Adam with a cosine decay of
 * the learning rate: a fixed budget of steps ends better with a small final learning rate.
 */
export const makeOptimizer = (c: Config) =>
  chain(
    clipByGlobalNorm(c.clip),
    adam({ learningRate: cosineDecay({ initValue: c.lr, decaySteps: c.decaySteps, alpha: c.lrFloor }) }),
  );

/** The optimizer's state. */
export type OptState = StateOf<ReturnType<typeof makeOptimizer>>;
