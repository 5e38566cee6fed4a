/**
 * @file Batched matrix product on operands of rank ≥ 2 with equal batch dimensions (the ops
 * layer handles 1-D operands and broadcasts batch dimensions explicitly).
 */
import * as T from "@rewind/tensor";
import { definePrimitive } from "../Primitive.js";
import { moveAxis } from "./batching.js";

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
  // A shared operand is never copied per example: a batched `a` stacks its examples' rows into one
  // taller matrix ([B·m, k] @ [k, n]), a batched `b` its columns ([m, k] @ [k, B·n]).
  batch: ([a, b], { dims: [da, db], bind }, k) => {
    if (da !== null && db !== null) return [bind([moveAxis(k, a!, da!, 0), moveAxis(k, b!, db!, 0)], undefined), [0]];
    if (db === null) {
      const r = b!.shape.length;
      const a1 = moveAxis(k, a!, da!, r - 2);
      const lead = a1.shape.slice(0, r - 2);
      const [size, m, kk] = a1.shape.slice(r - 2) as [number, number, number];
      const [out] = bind([k.reshape(a1, [...lead, size * m, kk]), b!], undefined);
      return [[k.reshape(out!, [...lead, size, m, b!.shape[r - 1]!])], [r - 2]];
    }
    const r = a!.shape.length;
    const b1 = moveAxis(k, b!, db!, r - 1);
    const lead = b1.shape.slice(0, r - 2);
    const [kk, size, n] = b1.shape.slice(r - 2) as [number, number, number];
    const [out] = bind([a!, k.reshape(b1, [...lead, kk, size * n])], undefined);
    return [[k.reshape(out!, [...lead, a!.shape[r - 2]!, size, n])], [r - 1]];
  },
});

/** The linear-algebra primitives, keyed by name. */
export const linalgPrimitives = { matmul } as const;
