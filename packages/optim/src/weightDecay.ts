/**
 * @file Decoupled weight decay: adds `λ·θ` to the updates, so that after the learning-rate scale
 * the parameters shrink by `lr·λ·θ` independently of the adaptive rescaling (Loshchilov & Hutter).
 */
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import type { EmptyState } from "./base.js";
import { resolveMask, type Mask } from "./mask.js";
import { checkLike, checkNumber, checkOptions, optimizer, type Optimizer } from "./types.js";

/**
 * Options of `addDecayedWeights`.
 * @example const opts: AddDecayedWeightsOptions = { weightDecay: 1e-2, mask: { w: true, b: false } };
 */
export interface AddDecayedWeightsOptions {
  /** The decay coefficient λ. */
  readonly weightDecay: number;
  /** Which leaves to decay (default: all). */
  readonly mask?: Mask;
}

/** The keys of `AddDecayedWeightsOptions`. */
export const WEIGHT_DECAY_KEYS = keysOf<AddDecayedWeightsOptions>({ weightDecay: true, mask: true });

/**
 * Adds `λ·θ` to each (masked) update; needs `params` in `update`. Placed before
 * `scaleByLearningRate`, this is decoupled weight decay (AdamW); placed before the rescaling, it
 * is L2 regularization.
 * @throws TensorException (`ValueError`) when `update` is called without `params`.
 * @example chain(scaleByAdam(), addDecayedWeights({ weightDecay: 1e-2 }), scaleByLearningRate(1e-3))
 */
export const addDecayedWeights = (options: AddDecayedWeightsOptions): Optimizer<EmptyState> => {
  checkOptions("addDecayedWeights", options, WEIGHT_DECAY_KEYS);
  const decay = checkNumber("addDecayedWeights", "weightDecay", options.weightDecay);
  return optimizer<EmptyState>({
    init: () => Object.freeze({}),
    update: (grads, state, params) => {
      if (params === undefined) {
        T.fail({
          _tag: "ValueError",
          op: "addDecayedWeights",
          arg: "params",
          detail: "weight decay needs the current parameters, but update was called without them",
          fix: "call update(grads, state, params)",
        });
      }
      checkLike("addDecayedWeights", grads, "the parameters", params);
      const mask = resolveMask("addDecayedWeights", options.mask, params);
      const [gs, def] = A.treeFlatten(grads);
      const [ps, pdef] = A.treeFlatten(params);
      if (A.treeDefKey(def) !== A.treeDefKey(pdef)) {
        T.fail({
          _tag: "TreeMismatch",
          op: "addDecayedWeights",
          path: "<root>",
          detail: `the gradients ${A.treeDefKey(def)} and the parameters ${A.treeDefKey(pdef)} differ in structure`,
          fix: "pass gradients shaped exactly like the parameters",
        });
      }
      const out = gs.map((g, i) => (mask[i] === true && decay !== 0 ? A.add(g, A.mul(ps[i]!, decay)) : g));
      return [A.treeUnflatten<typeof grads>(def, out), state];
    },
  });
};
