/**
 * @file Batched matrix product on operands of rank ≥ 2 with equal batch dimensions (the ops
 * layer handles 1-D operands and broadcasts batch dimensions explicitly).
 */
import * as T from "@rewind/tensor";
import { definePrimitive } from "../Primitive.js";

const swapLast = (rank: number): number[] => {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
};

/** a @ b over the last two axes. */
export const matmul = definePrimitive<"matmul", void>({
  name: "matmul",
  abstractEval: ([a, b]) => {
    const r = a!.shape.length;
    const ok =
      r >= 2 &&
      b!.shape.length === r &&
      a!.dtype === b!.dtype &&
      a!.shape[r - 1] === b!.shape[r - 2] &&
      a!.shape.slice(0, r - 2).every((d, i) => d === b!.shape[i]);
    if (!ok) {
      T.fail({
        _tag: "ShapeError",
        op: "matmul",
        arg: "a, b",
        shapes: [a!.shape, b!.shape],
        detail:
          "the matmul primitive needs equal ranks ≥ 2, equal batch axes, one dtype and a.shape[-1] === b.shape[-2]",
        fix: "call matmul from the ops layer, which broadcasts batch axes and promotes 1-D operands",
      });
    }
    return [{ shape: [...a!.shape.slice(0, r - 1), b!.shape[r - 1]!], dtype: a!.dtype }];
  },
  impl: ([a, b]) => [T.matmul(a!, b!)],
  // d(a b) = da b + a db  ⇒  ct_a = g bᵀ, ct_b = aᵀ g
  vjp: ([g], { ins: [a, b], needs }, { matmul, transpose }) => {
    const perm = swapLast(a!.shape.length);
    return [needs[0] ? matmul(g!, transpose(b!, perm)) : null, needs[1] ? matmul(transpose(a!, perm), g!) : null];
  },
});

/** The linear-algebra primitives, keyed by name. */
export const linalgPrimitives = { matmul } as const;
