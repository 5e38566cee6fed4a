/**
 * @file The building blocks every optimizer is chained from: `identity`, `scale`,
 * `scaleByLearningRate`, `chain`, and `applyUpdates`.
 *
 * Every update is written with @rewind/autodiff ops, so it runs eagerly on tensors and records
 * equations on tracers (under `jit` or `grad`). Update counts are int32 scalar tensors and
 * schedules are evaluated from them with ops, so a jitted training step traces once.
 *
 * Learning rates keep the numerics they had when counts were plain numbers: a schedule's value is
 * computed in float64 (as JavaScript computed it) and rounded once to each parameter's dtype,
 * exactly as a JavaScript number next to a float32 tensor is (weak typing).
 */
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import type { Value } from "@rewind/autodiff";
import { learningRateAt } from "./learningRate.js";
import {
  checkCount,
  checkFlag,
  checkLearningRate,
  checkLike,
  checkNumber,
  checkOptions,
  checkState,
  checkTransformation,
  inEachDType,
  zeroCount,
  type AnyTransformation,
  optimizer,
  type Optimizer,
  type LearningRate,
  type StateOf,
} from "./types.js";

/**
 * The state of a transformation that keeps none.
 * @example const s: EmptyState = identity().init(params);
 */
export type EmptyState = Readonly<Record<string, never>>;

/**
 * The state of a transformation that only counts updates (for its schedule).
 * @example scaleByLearningRate(0.1).init(params) // { count: int32 scalar 0 }
 */
export interface CountState {
  /** Number of updates made so far: an int32 scalar (a tracer under `jit`). */
  readonly count: Value;
}

const EMPTY: EmptyState = Object.freeze({});

/**
 * The transformation that returns the gradients unchanged.
 * @example identity().update(grads, {})[0] === grads // true
 */
export const identity = (): Optimizer<EmptyState> =>
  optimizer<EmptyState>({
    init: () => EMPTY,
    update: (grads, state) => [grads, state],
  });

/**
 * Multiplies every update by a constant `factor`.
 * @example scale(-1).update({ w: tensor([1, 2]) }, {})[0] // { w: [-1, -2] }
 */
export const scale = (factor: number): Optimizer<EmptyState> => {
  const f = checkNumber("scale", "factor", factor);
  return optimizer<EmptyState>({
    init: () => EMPTY,
    update: (grads, state) => [A.treeMap((g) => A.mul(g, f), grads), state],
  });
};

/**
 * Options of `scaleByLearningRate`.
 * @example const opts: ScaleByLearningRateOptions = { flipSign: false };
 */
export interface ScaleByLearningRateOptions {
  /** Multiply by `−lr` (descent, the default) rather than `lr`. */
  readonly flipSign?: boolean;
}

/**
 * Multiplies updates by `−lr(count)` (or `lr(count)` with `flipSign: false`), where `lr` is a
 * number or a schedule; the schedule sees the count before this update (0 first), as Optax's
 * `scale_by_learning_rate`. The count is kept even for a constant rate, so the state layout does
 * not depend on which kind of rate was passed.
 * @example
 * const lr = exponentialDecay({ initValue: 1e-2, transitionSteps: 100, decayRate: 0.5 });
 * chain(scaleByAdam(), scaleByLearningRate(lr))
 */
export const scaleByLearningRate = (
  learningRate: LearningRate,
  options: ScaleByLearningRateOptions = {},
): Optimizer<CountState> => {
  const lr = checkLearningRate("scaleByLearningRate", learningRate);
  checkOptions("scaleByLearningRate", options, ["flipSign"], true);
  const sign = (checkFlag("scaleByLearningRate", "flipSign", options.flipSign) ?? true) ? -1 : 1;
  return optimizer<CountState>({
    init: () => Object.freeze({ count: zeroCount() }),
    update: (grads, state) => {
      checkState("scaleByLearningRate", state, ["count"]);
      const count = checkCount("scaleByLearningRate", "state.count", state.count);
      const rate = learningRateAt(lr, count);
      // A number multiplies as it always did; a schedule's value is rounded once per leaf dtype.
      const factor = typeof rate === "number" ? sign * rate : sign < 0 ? A.neg(rate) : rate;
      const cast = inEachDType(factor);
      return [A.treeMap((g: Value) => A.mul(g, cast(g.dtype)), grads), Object.freeze({ count: A.add(count, 1) })];
    },
  });
};

/**
 * The states of a chain: one per transformation, in order.
 * @example type S = ChainState<[typeof clip, typeof adamOpt]>;
 */
export type ChainState<Ts extends readonly AnyTransformation[]> = { readonly [K in keyof Ts]: StateOf<Ts[K]> };

/**
 * Composes transformations left to right: the updates of each are the gradients of the next.
 * The state is the array of their states, in order.
 * @example const opt = chain(clipByGlobalNorm(5), scaleByAdam(), scaleByLearningRate(3e-3));
 */
export const chain = <const Ts extends readonly AnyTransformation[]>(...transforms: Ts): Optimizer<ChainState<Ts>> => {
  transforms.forEach((t, i) => checkTransformation("chain", `transforms[${i}]`, t));
  return optimizer<ChainState<Ts>>({
    init: (params) => Object.freeze(transforms.map((t) => t.init(params) as unknown)) as unknown as ChainState<Ts>,
    update: (grads, state, params) => {
      const states = state as unknown as readonly unknown[];
      if (!Array.isArray(states) || states.length !== transforms.length) {
        const got = Array.isArray(states) ? `${states.length}` : states === null ? "null" : typeof states;
        T.fail({
          _tag: "ValueError",
          op: "chain",
          arg: "state",
          detail:
            `the state of a chain of ${transforms.length} must be an array of ` +
            `${transforms.length} states, got ${got}`,
          fix: "pass the state the chain's init (or its previous update) returned",
        });
      }
      let updates = grads;
      const next = transforms.map((t, i) => {
        const result: readonly [typeof grads, unknown] = t.update(updates, states[i], params);
        updates = result[0];
        return result[1];
      });
      return [updates, Object.freeze(next) as unknown as ChainState<Ts>];
    },
  });
};

/**
 * Adds updates to parameters, leaf by leaf, keeping each parameter's dtype (Optax's
 * `apply_updates`). Static leaves (numbers, strings) come from `params`.
 * @throws GraphException (`TreeMismatch`) when the two trees differ in structure or leaf shapes.
 * @example applyUpdates({ w: tensor([1, 2]) }, { w: tensor([0.5, -1]) }) // { w: [1.5, 1] }
 */
export const applyUpdates = <P>(params: P, updates: P): P => {
  // An update of another shape would broadcast and silently change the parameter's shape.
  checkLike("applyUpdates", updates, "the parameters", params, "updates");
  return A.treeMap<P>((p: Value, u: Value) => A.astype(A.add(p, u), p.dtype), params, updates);
};
