/**
 * @file `skipNonFinite`: an update whose gradients hold a NaN or an infinity is dropped (zero
 * updates, the inner state kept as it was) and counted, so one bad batch never corrupts the
 * parameters or the optimizer's moments (Optax's `apply_if_finite`).
 *
 * The decision is a value of the graph: `allFiniteValue(grads)` is a bool scalar, the updates are
 * `where(ok, inner updates, −0)`, the inner state `where(ok, new, old)` leaf by leaf, and the
 * counts and flag of the state are int32 and bool scalars updated with `where`. So the update
 * runs under `jit` like any other, and a jitted training step traces once. Eagerly, where the
 * gradients' numbers are at hand, the same decision is made on the host: a bad step skips the
 * inner update's work, a good one the selects, and the results are the same bits.
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { isFloating, type Tensor } from "@rewind/tensor";
import {
  checkCount,
  checkState,
  checkTransformation,
  zeroCount,
  optimizer,
  type AnyTransformation,
  type GradientTransformation,
  type Optimizer,
  type StateOf,
} from "./types.js";

/**
 * The state of `skipNonFinite`: counts of skipped steps, and the inner optimizer's state. The
 * counts are int32 scalars and the flag a bool scalar (tracers under `jit`); read them with
 * `Number(state.totalNotFinite)` or `T.item`.
 * @example Number(skipNonFinite(adam({ learningRate: 1e-3 })).init(params).totalNotFinite) // 0
 */
export interface SkipNonFiniteState<S> {
  /** Non-finite steps in a row, up to and including the last one (0 after a finite step): int32 scalar. */
  readonly notFiniteCount: Value;
  /** Non-finite steps skipped since `init`: int32 scalar. */
  readonly totalNotFinite: Value;
  /** Whether the last update's gradients were all finite (true before any update): bool scalar. */
  readonly lastFinite: Value;
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
 * True when every leaf of `tree` is a tensor holding only finite numbers (integer and bool
 * leaves always are). Reads the numbers on the host; inside a transform use `allFiniteValue`.
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
        fix: "use allFiniteValue(tree), the same test as a bool scalar of the graph, and choose with where",
      });
    }
    return tensorIsFinite(leaf);
  });

/**
 * Whether every leaf of `tree` holds only finite numbers, as a bool scalar value: an op, so it
 * works on tensors and on tracers (under `jit`, `grad`, `scan`) alike. Integer and bool leaves
 * are always finite; a tree without float leaves gives `true`.
 * @example A.where(allFiniteValue(grads), update, 0)
 */
export const allFiniteValue = (tree: unknown): Value => {
  const floats = A.treeLeaves(tree).filter((leaf) => isFloating(leaf.dtype));
  if (floats.length === 0) return T.scalar(1, "bool");
  // x·0 is ±0 for a finite x and NaN for NaN and ±∞, and a NaN survives any sum: one pass and
  // one scalar per leaf, no bool buffer as large as the gradients.
  return A.isFinite(floats.map((leaf) => A.sum(A.mul(leaf, 0))).reduce((a, b) => A.add(a, b)));
};

/** `where(ok, next, old)` leaf by leaf over two states of one structure. */
const keepUnless = <S>(ok: Value, next: S, old: S): S => {
  if (A.treeDefKey(A.treeStructure(next)) !== A.treeDefKey(A.treeStructure(old))) {
    T.fail({
      _tag: "ValueError",
      op: "skipNonFinite",
      arg: "inner",
      detail:
        "the inner transformation's state changed in a value that is not a tensor (a plain number or flag), " +
        "so a traced update cannot keep the old state on a non-finite step",
      fix: "keep every per-step value of a state in a tensor (an update count as an int32 scalar tensor)",
    });
  }
  return A.treeMap<S>((n: Value, o: Value) => A.where(ok, n, o), next, old);
};

/** −0, not 0: x + (−0) is x for every x including −0, so the parameters keep their exact bits. */
const negZero = (g: Value): Tensor => T.scalar(-0, g.dtype);

/**
 * Wraps an optimizer so that an update whose gradients contain NaN or ±Infinity is skipped: the
 * updates are zeros (−0, so `applyUpdates` keeps the parameters bit for bit), the inner state is
 * returned unchanged (so momenta, second moments and update counts are not poisoned), and the
 * step is counted in `notFiniteCount` (consecutive) and `totalNotFinite` (all time). Works under
 * `jit` (see the file note).
 * @example
 * const opt = skipNonFinite(chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 })));
 * const [updates, state] = opt.update(grads, opt.init(params), params);
 * if (Number(state.lastFinite) === 0)
 *   console.warn(`skipped a non-finite step (${Number(state.totalNotFinite)} so far)`);
 */
export const skipNonFinite = <O extends AnyTransformation>(inner: O): Optimizer<SkipNonFiniteState<StateOf<O>>> =>
  // Typed by `O` rather than a state `S`, so that a union of optimizers (`clip ? chain(…) : adam(…)`)
  // infers the union of their states.
  skipping<StateOf<O>>(inner);

const skipping = <S>(inner: GradientTransformation<S>): Optimizer<SkipNonFiniteState<S>> => {
  checkTransformation("skipNonFinite", "inner", inner);
  return optimizer<SkipNonFiniteState<S>>({
    init: (params) =>
      Object.freeze({
        notFiniteCount: zeroCount(),
        totalNotFinite: zeroCount(),
        lastFinite: T.scalar(1, "bool"),
        inner: inner.init(params),
      }),
    update: (grads, state, params) => {
      checkState("skipNonFinite", state, ["notFiniteCount", "totalNotFinite", "lastFinite", "inner"]);
      const run = checkCount("skipNonFinite", "state.notFiniteCount", state.notFiniteCount);
      const total = checkCount("skipNonFinite", "state.totalNotFinite", state.totalNotFinite);
      const leaves = A.treeLeaves(grads);
      if (!leaves.some(A.isTracer)) {
        // Concrete gradients: decide on the host (same bits as the selects below).
        if (allFinite(grads, "skipNonFinite")) {
          const [updates, innerState] = inner.update(grads, state.inner, params);
          const next = { notFiniteCount: zeroCount(), totalNotFinite: total, lastFinite: T.scalar(1, "bool") };
          return [updates, Object.freeze({ ...next, inner: innerState })];
        }
        const zeros = A.treeMap<typeof grads>((g: Value) => A.broadcastTo(negZero(g), g.shape), grads);
        const next = {
          notFiniteCount: A.add(run, 1),
          totalNotFinite: A.add(total, 1),
          lastFinite: T.scalar(0, "bool"),
        };
        return [zeros, Object.freeze({ ...next, inner: state.inner })];
      }
      const ok = allFiniteValue(grads);
      const [updates, innerState] = inner.update(grads, state.inner, params);
      return [
        A.treeMap<typeof grads>((g: Value, u: Value) => A.where(ok, u, negZero(g)), grads, updates),
        Object.freeze({
          notFiniteCount: A.where(ok, 0, A.add(run, 1)),
          totalNotFinite: A.where(ok, total, A.add(total, 1)),
          lastFinite: ok,
          inner: keepUnless(ok, innerState, state.inner),
        }),
      ];
    },
  });
};
