/**
 * @file `applyPrimitive`: how code outside Rewind applies a primitive it declared with
 * `definePrimitive` (the built-in ops do the same through their own wrappers).
 */
import { bind, isValue, type Value } from "./core.js";
import type { AnyPrimitive } from "./Primitive.js";
import { graphFail } from "./errors.js";

/**
 * Applies `prim` to `inputs` with static `params`: computes at once on tensors, or records an
 * equation under a transform (grad, jit, vmap, scan), exactly like a built-in op. Returns the
 * primitive's outputs.
 * @example
 * const double = definePrimitive<"double", void>({ name: "double", abstractEval: ([x]) => [x!],
 *   impl: ([x]) => [T.mul(x!, 2)], vjp: ([g], _, k) => [k.mul(g!, 2)] });
 * const [y] = applyPrimitive(double, [x], undefined);
 */
export const applyPrimitive = <P>(prim: AnyPrimitive, inputs: readonly Value[], params: P): readonly Value[] => {
  if (typeof prim !== "object" || prim === null || typeof prim.impl !== "function" || !Object.isFrozen(prim))
    graphFail({
      _tag: "InvalidArgument",
      op: "applyPrimitive",
      arg: "prim",
      detail: "expected a primitive made by definePrimitive",
      fix: "declare it with definePrimitive({ name, abstractEval, impl, vjp })",
    });
  if (!Array.isArray(inputs) || !inputs.every(isValue))
    graphFail({
      _tag: "InvalidArgument",
      op: "applyPrimitive",
      arg: "inputs",
      detail: "expected an array of tensors or traced values",
      fix: "pass the primitive's inputs as an array, e.g. [x]",
    });
  return bind(prim, inputs, params);
};
