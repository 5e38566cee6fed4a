/**
 * @file The transformations that rescale gradients from running statistics: momentum,
 * Adagrad's root of summed squares, RMSProp's root mean square (plain and centered), and Adam's
 * bias-corrected moments. Each keeps its statistics in a pytree shaped like the parameters.
 */
import * as A from "@rewind/autodiff";
import type { PyTree, Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import {
  checkCount,
  checkFlag,
  checkLike,
  checkNumber,
  checkOptions,
  checkState,
  inEachDType,
  invalidArgument,
  zeroCount,
  optimizer,
  type Optimizer,
} from "./types.js";

/** A pytree shaped like `params` with every leaf filled with `value` (in the leaf's dtype). */
const filledLike = (params: unknown, value: number): PyTree =>
  A.treeMap((p: Value) => A.broadcastTo(T.scalar(value, p.dtype), p.shape), params);

/**
 * Options of `traceMomentum`.
 * @example const opts: TraceMomentumOptions = { decay: 0.9, nesterov: true };
 */
export interface TraceMomentumOptions {
  /** The momentum coefficient μ. */
  readonly decay: number;
  /** Use Nesterov's look-ahead form `g + μ·t'` instead of `t'`. */
  readonly nesterov?: boolean;
}

/**
 * The state of `traceMomentum`: the velocity, shaped like the parameters.
 * @example traceMomentum({ decay: 0.9 }).init(params).trace
 */
export interface TraceState {
  /** The velocity t, one tensor per parameter. */
  readonly trace: PyTree;
}

/**
 * Heavy-ball momentum (Optax's `trace`, PyTorch's SGD buffer with no dampening):
 * `t' = g + μ·t`, update `t'`, or `g + μ·t'` with Nesterov.
 * @example chain(traceMomentum({ decay: 0.9 }), scaleByLearningRate(0.1))
 */
export const traceMomentum = (options: TraceMomentumOptions): Optimizer<TraceState> => {
  checkOptions("traceMomentum", options, keysOf<TraceMomentumOptions>({ decay: true, nesterov: true }));
  const decay = checkNumber("traceMomentum", "decay", options.decay, 0, 1);
  const nesterov = checkFlag("traceMomentum", "nesterov", options.nesterov) ?? false;
  return optimizer<TraceState>({
    init: (params) => Object.freeze({ trace: filledLike(params, 0) }),
    update: (grads, state) => {
      checkState("traceMomentum", state, ["trace"]);
      checkLike("traceMomentum", grads, "state.trace", state.trace);
      const trace = A.treeMap((g: Value, t: Value) => A.add(g, A.mul(t, decay)), grads, state.trace);
      const updates = nesterov
        ? A.treeMap<typeof grads>((g: Value, t: Value) => A.add(g, A.mul(t, decay)), grads, trace)
        : (trace as typeof grads);
      return [updates, Object.freeze({ trace })];
    },
  });
};

/**
 * Options of `scaleByRss`.
 * @example const opts: ScaleByRssOptions = { initialAccumulator: 0, eps: 1e-8 }; // min-char-rnn
 */
export interface ScaleByRssOptions {
  /** Starting value of the sum of squares. Default 0.1 (Optax, TensorFlow); PyTorch and min-char-rnn use 0. */
  readonly initialAccumulator?: number;
  /** Added to the sum inside the square root. Default 1e-7 (Optax). */
  readonly eps?: number;
}

/** The keys of `ScaleByRssOptions`. */
export const RSS_KEYS = keysOf<ScaleByRssOptions>({ initialAccumulator: true, eps: true });

/**
 * The state of `scaleByRss`: the running sum of squared gradients.
 * @example scaleByRss().init(params).sumOfSquares
 */
export interface ScaleByRssState {
  /** Σ g² so far, one tensor per parameter. */
  readonly sumOfSquares: PyTree;
}

/**
 * Adagrad's rescaling (Optax's `scale_by_rss`): `s' = s + g²`, update `g / √(s' + eps)`, and 0
 * where `s' = 0` (a zero gradient with `eps = 0` would otherwise give 0/0).
 * @example chain(scaleByRss({ initialAccumulator: 0, eps: 1e-8 }), scaleByLearningRate(0.1))
 */
export const scaleByRss = (options: ScaleByRssOptions = {}): Optimizer<ScaleByRssState> => {
  checkOptions("scaleByRss", options, RSS_KEYS, true);
  const initial = checkNumber("scaleByRss", "initialAccumulator", options.initialAccumulator ?? 0.1, 0);
  const eps = checkNumber("scaleByRss", "eps", options.eps ?? 1e-7, 0);
  return optimizer<ScaleByRssState>({
    init: (params) => Object.freeze({ sumOfSquares: filledLike(params, initial) }),
    update: (grads, state) => {
      checkState("scaleByRss", state, ["sumOfSquares"]);
      checkLike("scaleByRss", grads, "state.sumOfSquares", state.sumOfSquares);
      const sumOfSquares = A.treeMap((g: Value, s: Value) => A.add(s, A.mul(g, g)), grads, state.sumOfSquares);
      const updates = A.treeMap<typeof grads>(
        (g: Value, s: Value) => A.where(A.greater(s, 0), A.div(g, A.sqrt(A.add(s, eps))), 0),
        grads,
        sumOfSquares,
      );
      return [updates, Object.freeze({ sumOfSquares })];
    },
  });
};

/**
 * Options of `scaleByRms` and `scaleByStddev`.
 * @example const opts: ScaleByRmsOptions = { decay: 0.99, eps: 1e-8, epsInSqrt: false }; // PyTorch
 */
export interface ScaleByRmsOptions {
  /** Decay of the moving averages. Default 0.9 (Optax, Hinton's lecture); PyTorch uses 0.99. */
  readonly decay?: number;
  /** Stabilizer. Default 1e-8. */
  readonly eps?: number;
  /** Starting value of the mean square. Default 0. */
  readonly initialScale?: number;
  /** `g / √(ν + eps)` (true, default, Optax) or `g / (√ν + eps)` (false, PyTorch). */
  readonly epsInSqrt?: boolean;
}

/**
 * The state of `scaleByRms`: the moving average of squared gradients.
 * @example scaleByRms().init(params).nu
 */
export interface ScaleByRmsState {
  /** The moving average of g², one tensor per parameter. */
  readonly nu: PyTree;
}

/** The keys of `ScaleByRmsOptions`. */
export const RMS_KEYS = keysOf<ScaleByRmsOptions>({ decay: true, eps: true, initialScale: true, epsInSqrt: true });

/**
 * The state of `scaleByStddev`: moving averages of gradients and of their squares.
 * @example scaleByStddev().init(params).mu
 */
export interface ScaleByStddevState {
  /** The moving average of g, one tensor per parameter. */
  readonly mu: PyTree;
  /** The moving average of g², one tensor per parameter. */
  readonly nu: PyTree;
}

/** `ρ·x + (1 − ρ)·v`, an exponential moving average step. */
const ema = (x: Value, v: Value, decay: number): Value => A.add(A.mul(x, decay), A.mul(v, 1 - decay));

const rmsOptions = (op: string, options: ScaleByRmsOptions) => {
  checkOptions(op, options, RMS_KEYS, true);
  return {
    decay: checkNumber(op, "decay", options.decay ?? 0.9, 0, 1),
    eps: checkNumber(op, "eps", options.eps ?? 1e-8, 0),
    initialScale: checkNumber(op, "initialScale", options.initialScale ?? 0, 0),
    epsInSqrt: checkFlag(op, "epsInSqrt", options.epsInSqrt) ?? true,
  };
};

/** `g / √(ν + eps)` or `g / (√ν + eps)`. */
const rescale = (g: Value, nu: Value, eps: number, epsInSqrt: boolean): Value =>
  epsInSqrt ? A.div(g, A.sqrt(A.add(nu, eps))) : A.div(g, A.add(A.sqrt(nu), eps));

/**
 * RMSProp's rescaling (Optax's `scale_by_rms`): `ν' = ρ·ν + (1 − ρ)·g²`, update `g / √(ν' + eps)`.
 * @example chain(scaleByRms({ decay: 0.95 }), scaleByLearningRate(2e-3)) // char-rnn's setting
 */
export const scaleByRms = (options: ScaleByRmsOptions = {}): Optimizer<ScaleByRmsState> => {
  const { decay, eps, initialScale, epsInSqrt } = rmsOptions("scaleByRms", options);
  return optimizer<ScaleByRmsState>({
    init: (params) => Object.freeze({ nu: filledLike(params, initialScale) }),
    update: (grads, state) => {
      checkState("scaleByRms", state, ["nu"]);
      checkLike("scaleByRms", grads, "state.nu", state.nu);
      const nu = A.treeMap((g: Value, n: Value) => ema(n, A.mul(g, g), decay), grads, state.nu);
      return [
        A.treeMap<typeof grads>((g: Value, n: Value) => rescale(g, n, eps, epsInSqrt), grads, nu),
        Object.freeze({ nu }),
      ];
    },
  });
};

/**
 * Centered RMSProp (Optax's `scale_by_stddev`, Graves 2013): also tracks `μ' = ρ·μ + (1 − ρ)·g`
 * and divides by the root of the variance estimate `ν' − μ'²`.
 * @example chain(scaleByStddev(), scaleByLearningRate(1e-3))
 */
export const scaleByStddev = (options: ScaleByRmsOptions = {}): Optimizer<ScaleByStddevState> => {
  const { decay, eps, initialScale, epsInSqrt } = rmsOptions("scaleByStddev", options);
  return optimizer<ScaleByStddevState>({
    init: (params) => Object.freeze({ mu: filledLike(params, 0), nu: filledLike(params, initialScale) }),
    update: (grads, state) => {
      checkState("scaleByStddev", state, ["mu", "nu"]);
      checkLike("scaleByStddev", grads, "state.nu", state.nu);
      const mu = A.treeMap((g: Value, m: Value) => ema(m, g, decay), grads, state.mu);
      const nu = A.treeMap((g: Value, n: Value) => ema(n, A.mul(g, g), decay), grads, state.nu);
      const variance = A.treeMap((m: Value, n: Value) => A.sub(n, A.mul(m, m)), mu, nu);
      return [
        A.treeMap<typeof grads>((g: Value, v: Value) => rescale(g, v, eps, epsInSqrt), grads, variance),
        Object.freeze({ mu, nu }),
      ];
    },
  });
};

/**
 * Options of `scaleByAdam`.
 * @example const opts: ScaleByAdamOptions = { b1: 0.9, b2: 0.999, eps: 1e-8 };
 */
export interface ScaleByAdamOptions {
  /** Decay of the first moment, in [0, 1). Default 0.9 (Kingma & Ba, Optax, PyTorch). */
  readonly b1?: number;
  /** Decay of the second moment, in [0, 1). Default 0.999. */
  readonly b2?: number;
  /** Added to `√ν̂` (outside the root, as in the paper). Default 1e-8. */
  readonly eps?: number;
  /** Added to `ν̂` inside the root; make it positive to differentiate through Adam. Default 0. */
  readonly epsRoot?: number;
}

/** The keys of `ScaleByAdamOptions`. */
export const ADAM_KEYS = keysOf<ScaleByAdamOptions>({ b1: true, b2: true, eps: true, epsRoot: true });

/**
 * The state of `scaleByAdam`: the update count (an int32 scalar, for the bias corrections) and
 * the first and second moments, shaped like the parameters.
 * @example scaleByAdam().init(params).count // int32 scalar 0
 */
export interface ScaleByAdamState {
  /** Updates made so far (t in the bias corrections 1 − βᵗ): an int32 scalar (a tracer under `jit`). */
  readonly count: Value;
  /** First moment: the moving average of g, one tensor per parameter. */
  readonly mu: PyTree;
  /** Second moment: the moving average of g², one tensor per parameter. */
  readonly nu: PyTree;
}

/** Adam's b1 and b2 lie in [0, 1): at 1 the bias correction 1 − βᵗ is 0 and every update NaN. */
const decayBelowOne = (arg: string, value: number): number => {
  const b = checkNumber("scaleByAdam", arg, value, 0, 1);
  return b < 1
    ? b
    : invalidArgument(
        "scaleByAdam",
        arg,
        `${arg} must be below 1, got ${b} (the bias correction 1 − ${arg}ᵗ would be 0)`,
        `pass a decay in [0, 1), e.g. ${arg === "b1" ? 0.9 : 0.999}`,
      );
};

/**
 * Adam's rescaling (Kingma & Ba 2015, Optax's `scale_by_adam`): `μ' = β₁μ + (1 − β₁)g`,
 * `ν' = β₂ν + (1 − β₂)g²`, `t = count + 1`, update `μ̂ / (√(ν̂ + epsRoot) + eps)` with
 * `μ̂ = μ'/(1 − β₁ᵗ)` and `ν̂ = ν'/(1 − β₂ᵗ)`. The corrections are computed from the count in the
 * graph, in float64 (`pow` of float64 is JavaScript's `**`), and rounded once to each moment's dtype.
 * @example chain(scaleByAdam({ b2: 0.99 }), scaleByLearningRate(1e-3))
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): Optimizer<ScaleByAdamState> => {
  checkOptions("scaleByAdam", options, ADAM_KEYS, true);
  const b1 = decayBelowOne("b1", options.b1 ?? 0.9);
  const b2 = decayBelowOne("b2", options.b2 ?? 0.999);
  const eps = checkNumber("scaleByAdam", "eps", options.eps ?? 1e-8, 0);
  const epsRoot = checkNumber("scaleByAdam", "epsRoot", options.epsRoot ?? 0, 0);
  return optimizer<ScaleByAdamState>({
    init: (params) => Object.freeze({ count: zeroCount(), mu: filledLike(params, 0), nu: filledLike(params, 0) }),
    update: (grads, state) => {
      checkState("scaleByAdam", state, ["count", "mu", "nu"]);
      checkLike("scaleByAdam", grads, "state.nu", state.nu);
      const count = A.add(checkCount("scaleByAdam", "state.count", state.count), 1);
      const mu = A.treeMap((g: Value, m: Value) => ema(m, g, b1), grads, state.mu);
      const nu = A.treeMap((g: Value, n: Value) => ema(n, A.mul(g, g), b2), grads, state.nu);
      // 1 − βᵗ in float64, the operations JavaScript did on numbers, then rounded per dtype.
      const t = A.astype(count, "float64");
      const c1 = inEachDType(A.sub(1, A.pow(b1, t)));
      const c2 = inEachDType(A.sub(1, A.pow(b2, t)));
      const updates = A.treeMap<typeof grads>(
        (m: Value, n: Value) => {
          const vHat = A.div(n, c2(n.dtype));
          return A.div(A.div(m, c1(m.dtype)), A.add(A.sqrt(epsRoot === 0 ? vHat : A.add(vHat, epsRoot)), eps));
        },
        mu,
        nu,
      );
      return [updates, Object.freeze({ count, mu, nu })];
    },
  });
};
