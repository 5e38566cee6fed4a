/**
 * @file The popular optimizers, each a `chain` of building blocks exactly as in Optax's
 * `alias.py`, so their states are arrays with one entry per block and their defaults are Optax's
 * (differences from PyTorch are noted on each).
 */
import { keysOf } from "@rewind/tensor/internal/check";
import { chain, identity, scaleByLearningRate, type CountState, type EmptyState } from "./base.js";
import type { Mask } from "./mask.js";
import {
  ADAM_KEYS,
  RMS_KEYS,
  RSS_KEYS,
  scaleByAdam,
  scaleByRms,
  scaleByRss,
  scaleByStddev,
  traceMomentum,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByRssOptions,
  type ScaleByRssState,
  type ScaleByStddevState,
  type TraceState,
} from "./scaling.js";
import { checkFlag, checkLearningRate, checkNumber, checkOptions, type Optimizer, type LearningRate } from "./types.js";
import { addDecayedWeights, WEIGHT_DECAY_KEYS } from "./weightDecay.js";

/**
 * Options of `sgd`.
 * @example const opts: SgdOptions = { learningRate: 0.1, momentum: 0.9, nesterov: true };
 */
export interface SgdOptions {
  /** Step size: a number, or a schedule of the update count. */
  readonly learningRate: LearningRate;
  /** Momentum coefficient; omitted means plain SGD (no velocity is stored). */
  readonly momentum?: number;
  /** Nesterov momentum. Default false. */
  readonly nesterov?: boolean;
}

/**
 * The state of `sgd`: the velocity (or nothing without momentum), then the update count.
 * @example const [velocity, { count }] = sgd({ learningRate: 0.1, momentum: 0.9 }).init(params);
 */
export type SgdState = readonly [TraceState | EmptyState, CountState];

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum: `v' = g + μv`,
 * `θ' = θ − lr·v'` (or `θ − lr·(g + μv')`). Equal to PyTorch's `SGD` with `dampening = 0`.
 * @example const opt = sgd({ learningRate: 0.1, momentum: 0.9 });
 */
export const sgd = (options: SgdOptions): Optimizer<SgdState> => {
  checkOptions("sgd", options, keysOf<SgdOptions>({ learningRate: true, momentum: true, nesterov: true }));
  const nesterov = checkFlag("sgd", "nesterov", options.nesterov) ?? false;
  if (options.momentum !== undefined) checkNumber("sgd", "momentum", options.momentum, 0, 1);
  return chain(
    options.momentum === undefined ? identity() : traceMomentum({ decay: options.momentum, nesterov }),
    scaleByLearningRate(checkLearningRate("sgd", options.learningRate)),
  );
};

/**
 * Options of `adagrad` (defaults: Optax's, which are TensorFlow's).
 * @example const minCharRnn: AdagradOptions = { learningRate: 0.1, initialAccumulator: 0, eps: 1e-8 };
 */
export interface AdagradOptions extends ScaleByRssOptions {
  /** Step size: a number, or a schedule of the update count. */
  readonly learningRate: LearningRate;
}

/**
 * The state of `adagrad`: the sum of squared gradients, then the update count.
 * @example adagrad({ learningRate: 0.1 }).init(params)[0].sumOfSquares
 */
export type AdagradState = readonly [ScaleByRssState, CountState];

/**
 * Adagrad (Duchi et al. 2011): `s' = s + g²`, `θ' = θ − lr·g/√(s' + eps)`. Defaults follow
 * Optax (`initialAccumulator = 0.1`, `eps = 1e-7` inside the root). PyTorch starts the sum at 0
 * and adds `eps = 1e-10` outside the root. Karpathy's min-char-rnn (`mem += g²;
 * p -= lr·g/√(mem + 1e-8)`, lr 0.1) is `adagrad({ learningRate: 0.1, initialAccumulator: 0, eps: 1e-8 })`.
 * @example const opt = adagrad({ learningRate: 0.1, initialAccumulator: 0, eps: 1e-8 });
 */
export const adagrad = (options: AdagradOptions): Optimizer<AdagradState> => {
  checkOptions("adagrad", options, ["learningRate", ...RSS_KEYS]);
  const { learningRate, ...rss } = options;
  return chain(scaleByRss(rss), scaleByLearningRate(checkLearningRate("adagrad", learningRate)));
};

/**
 * Options of `rmsprop`.
 * @example const pytorchLike: RmspropOptions = { learningRate: 1e-2, decay: 0.99, epsInSqrt: false };
 */
export interface RmspropOptions extends ScaleByRmsOptions {
  /** Step size: a number, or a schedule of the update count. */
  readonly learningRate: LearningRate;
  /** Divide by the standard deviation rather than the root mean square (Graves 2013). Default false. */
  readonly centered?: boolean;
  /** Momentum applied after the learning rate, as PyTorch and Optax do; omitted means none. */
  readonly momentum?: number;
  /** Nesterov momentum. Default false. */
  readonly nesterov?: boolean;
}

/**
 * The state of `rmsprop`: the moving averages, the update count, then the velocity (if any).
 * @example rmsprop({ learningRate: 1e-3 }).init(params)[0].nu
 */
export type RmspropState = readonly [ScaleByRmsState | ScaleByStddevState, CountState, TraceState | EmptyState];

/**
 * RMSProp (Hinton, Coursera lecture 6e): `ν' = ρν + (1 − ρ)g²`, `θ' = θ − lr·g/√(ν' + eps)`.
 * Defaults follow Optax (`decay = 0.9`, `eps = 1e-8` inside the root); PyTorch's are
 * `decay = 0.99` with eps outside the root (`epsInSqrt: false`). Karpathy's char-rnn uses
 * `decay = 0.95`, lr 2e-3.
 * @example const opt = rmsprop({ learningRate: 2e-3, decay: 0.95 });
 */
export const rmsprop = (options: RmspropOptions): Optimizer<RmspropState> => {
  checkOptions("rmsprop", options, ["learningRate", "centered", "momentum", "nesterov", ...RMS_KEYS]);
  const { learningRate, centered, momentum, nesterov, ...rms } = options;
  checkFlag("rmsprop", "centered", centered);
  checkFlag("rmsprop", "nesterov", nesterov);
  if (momentum !== undefined) checkNumber("rmsprop", "momentum", momentum, 0, 1);
  return chain(
    centered === true ? scaleByStddev(rms) : scaleByRms(rms),
    scaleByLearningRate(checkLearningRate("rmsprop", learningRate)),
    momentum === undefined ? identity() : traceMomentum({ decay: momentum, nesterov: nesterov ?? false }),
  );
};

/**
 * Options of `adam` (defaults: Kingma & Ba's, shared by Optax and PyTorch).
 * @example const opts: AdamOptions = { learningRate: 3e-4, b2: 0.99 };
 */
export interface AdamOptions extends ScaleByAdamOptions {
  /** Step size: a number, or a schedule of the update count. */
  readonly learningRate: LearningRate;
}

/**
 * The state of `adam`: the count and moments, then the learning-rate count.
 * @example adam({ learningRate: 1e-3 }).init(params)[0].mu
 */
export type AdamState = readonly [ScaleByAdamState, CountState];

/**
 * Adam (Kingma & Ba 2015) with bias correction: `θ' = θ − lr·μ̂/(√ν̂ + eps)`, `b1 = 0.9`,
 * `b2 = 0.999`, `eps = 1e-8` (see `scaleByAdam`). Equal to PyTorch's `Adam`.
 * @example const opt = adam({ learningRate: 3e-3 });
 */
export const adam = (options: AdamOptions): Optimizer<AdamState> => {
  checkOptions("adam", options, ["learningRate", ...ADAM_KEYS]);
  const { learningRate, ...moments } = options;
  return chain(scaleByAdam(moments), scaleByLearningRate(checkLearningRate("adam", learningRate)));
};

/**
 * Options of `adamw`.
 * @example const opts: AdamwOptions = { learningRate: 1e-3, weightDecay: 1e-2, mask: { w: true, b: false } };
 */
export interface AdamwOptions extends AdamOptions {
  /** Decay coefficient λ. Default 1e-4 (Optax); PyTorch's `AdamW` default is 1e-2. */
  readonly weightDecay?: number;
  /** Which leaves to decay (default: all). */
  readonly mask?: Mask;
}

/**
 * The state of `adamw`: Adam's, the (empty) weight-decay state, then the learning-rate count.
 * @example adamw({ learningRate: 1e-3 }).init(params)[0].nu
 */
export type AdamwState = readonly [ScaleByAdamState, EmptyState, CountState];

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
 * `θ' = θ − lr·(μ̂/(√ν̂ + eps) + λθ)`. The decay bypasses Adam's rescaling; like Optax and
 * PyTorch, it is multiplied by the learning rate (the paper multiplies it by the schedule only).
 * @example const opt = adamw({ learningRate: 1e-3, weightDecay: 1e-2, mask: maskByPath((p) => !p.endsWith("bias")) });
 */
export const adamw = (options: AdamwOptions): Optimizer<AdamwState> => {
  checkOptions("adamw", options, ["learningRate", ...ADAM_KEYS, ...WEIGHT_DECAY_KEYS]);
  const { learningRate, weightDecay, mask, ...moments } = options;
  return chain(
    scaleByAdam(moments),
    addDecayedWeights({ weightDecay: weightDecay ?? 1e-4, ...(mask === undefined ? {} : { mask }) }),
    scaleByLearningRate(checkLearningRate("adamw", learningRate)),
  );
};
