/**
 * @file Gradient clipping: by the global norm over every leaf (Pascanu et al. 2013; Optax's
 * `clip_by_global_norm`, PyTorch's `clip_grad_norm_`) and elementwise by value (min-char-rnn's
 * `np.clip(g, -5, 5)`).
 */
import * as A from "@rewind/autodiff";
import type { PyTree, Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import type { EmptyState } from "./base.js";
import { checkNumber, invalidArgument, optimizer, type Optimizer } from "./types.js";

/**
 * The L2 norm of all leaves together, `√(Σ_leaves Σ g²)`, as a scalar value (float32 for a tree
 * with no leaves; otherwise the widest leaf dtype).
 * @example globalNorm({ a: tensor([3]), b: tensor([4]) }) // 5
 */
export const globalNorm = (tree: PyTree): Value => {
  const leaves = A.treeLeaves(tree);
  if (leaves.length === 0) return T.scalar(0);
  return A.sqrt(leaves.map((g) => A.sum(A.mul(g, g))).reduce((acc, s) => A.add(acc, s)));
};

/**
 * Rescales all updates together so their global norm is at most `maxNorm`: unchanged when the
 * norm is below it, `g · maxNorm / norm` otherwise. The direction is kept (unlike clipping by
 * value). The bound holds up to rounding (a few ulps). A NaN or infinite gradient makes every
 * update NaN; wrap the optimizer in `skipNonFinite` to drop such steps.
 * @example chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 }))
 */
export const clipByGlobalNorm = (maxNorm: number): Optimizer<EmptyState> => {
  const bound = checkNumber("clipByGlobalNorm", "maxNorm", maxNorm, Number.MIN_VALUE);
  return optimizer<EmptyState>({
    init: () => Object.freeze({}),
    update: (grads, state) => {
      const norm = globalNorm(grads);
      const under = A.less(norm, bound);
      // Each leaf is rescaled in its own dtype, so a float32 leaf stays float32 next to float64 ones.
      const clipped = A.treeMap<typeof grads>(
        (g: Value) => A.where(under, g, A.mul(A.div(g, A.astype(norm, g.dtype)), bound)),
        grads,
      );
      return [clipped, state];
    },
  });
};

/**
 * Clamps every update elementwise to `[min, max]` (a NaN stays NaN; `±Infinity` leaves a side open).
 * @example clipByValue(-5, 5).update({ w: tensor([-7, 1, 9]) }, {})[0] // { w: [-5, 1, 5] }
 */
export const clipByValue = (min: number, max: number): Optimizer<EmptyState> => {
  // Infinite bounds are allowed: clipByValue(-Infinity, 0) clips one side only.
  const lo = min === -Infinity ? min : checkNumber("clipByValue", "min", min);
  const hi = max === Infinity ? max : checkNumber("clipByValue", "max", max);
  if (lo > hi) invalidArgument("clipByValue", "min, max", `min ${lo} is greater than max ${hi}`, "pass min ≤ max");
  return optimizer<EmptyState>({
    init: () => Object.freeze({}),
    update: (grads, state) => [
      // where, not maximum/minimum: a NaN gradient must stay visible rather than become a bound.
      A.treeMap<typeof grads>((g: Value) => A.where(A.less(g, lo), lo, A.where(A.greater(g, hi), hi, g)), grads),
      state,
    ],
  });
};
