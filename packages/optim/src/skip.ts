/**
 * @file `skipNonFinite`: an update whose gradients hold a NaN or an infinity is dropped (zero
 * updates, the inner state kept as it was) and counted, so one bad batch never corrupts the
 * parameters or the optimizer's moments (Optax's `apply_if_finite`).
 *
 * The decision is made on the host, reading the gradients' numbers: the state holds plain-number
 * counts (the inner optimizer's update count among them), and a traced boolean cannot choose
 * between two plain numbers. So the update needs concrete gradients; a training step jits the
 * loss and its gradient and runs the optimizer update eagerly.
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { isFloating, type Tensor } from "@rewind/tensor";
import { checkCount, checkState, checkTransformation, type GradientTransformation } from "./types.js";

/**
 * The state of `skipNonFinite`: counts of skipped steps, and the inner optimizer's state.
 * @example skipNonFinite(adam({ learningRate: 1e-3 })).init(params).totalNotFinite // 0
 */
export interface SkipNonFiniteState<S> {
  /** Non-finite steps in a row, up to and including the last one (0 after a finite step). */
  readonly notFiniteCount: number;
  /** Non-finite steps skipped since `init`. */
  readonly totalNotFinite: number;
  /** Whether the last update's gradients were all finite (true before any update). */
  readonly lastFinite: boolean;
  /** The wrapped transformation's state, unchanged by skipped steps. */
  readonly inner: S;
}

const tensorIsFinite = (t: Tensor): boolean => {
  if (!isFloating(t.dtype)) return true;
  const { data } = t;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
};

/**
 * True when every leaf of `tree` is a tensor holding only finite numbers.
 * @throws TensorException (`ValueError`) for traced values, whose numbers are not known yet.
 * @example allFinite({ w: tensor([1, NaN]) }) // false
 */
export const allFinite = (tree: unknown, op = "allFinite"): boolean =>
  A.treeLeaves(tree).every((leaf: Value) => {
    if (A.isTracer(leaf)) {
      return T.fail({
        _tag: "ValueError",
        op,
        arg: "grads",
        detail:
          "the gradients are traced values (inside jit, grad or scan), so whether they are finite is not known yet",
        fix: "jit the loss and gradient only, and call the optimizer's update outside jit on the concrete gradients",
      });
    }
    return tensorIsFinite(leaf);
  });

/**
 * Wraps an optimizer so that an update whose gradients contain NaN or ±Infinity is skipped: the
 * updates are zeros (−0, so `applyUpdates` keeps the parameters bit for bit), the inner state is returned unchanged
 * (so momenta, second moments and update counts are not poisoned), and the step is counted in
 * `notFiniteCount` (consecutive) and `totalNotFinite` (all time).
 * @throws TensorException (`ValueError`) when called on traced gradients (see the file note).
 * @example
 * const opt = skipNonFinite(chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 })));
 * const [updates, state] = opt.update(grads, opt.init(params), params);
 * if (!state.lastFinite) console.warn(`skipped a non-finite step (${state.totalNotFinite} so far)`);
 */
export const skipNonFinite = <S>(inner: GradientTransformation<S>): GradientTransformation<SkipNonFiniteState<S>> => {
  checkTransformation("skipNonFinite", "inner", inner);
  return {
    init: (params) =>
      Object.freeze({ notFiniteCount: 0, totalNotFinite: 0, lastFinite: true, inner: inner.init(params) }),
    update: (grads, state, params) => {
      checkState("skipNonFinite", state, ["notFiniteCount", "totalNotFinite", "lastFinite", "inner"]);
      checkCount("skipNonFinite", "state.notFiniteCount", state.notFiniteCount);
      checkCount("skipNonFinite", "state.totalNotFinite", state.totalNotFinite);
      if (allFinite(grads, "skipNonFinite")) {
        const [updates, innerState] = inner.update(grads, state.inner, params);
        return [
          updates,
          Object.freeze({
            notFiniteCount: 0,
            totalNotFinite: state.totalNotFinite,
            lastFinite: true,
            inner: innerState,
          }),
        ];
      }
      // −0, not 0: x + (−0) is x for every x including −0, so the parameters keep their exact bits.
      const zeros = A.treeMap<typeof grads>((g: Value) => A.broadcastTo(T.scalar(-0, g.dtype), g.shape), grads);
      return [
        zeros,
        Object.freeze({
          notFiniteCount: state.notFiniteCount + 1,
          totalNotFinite: state.totalNotFinite + 1,
          lastFinite: false,
          inner: state.inner,
        }),
      ];
    },
  };
};
