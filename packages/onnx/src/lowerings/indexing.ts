/**
 * @file Lowerings of the indexing primitives and `matmul`. Rewind's indices may be negative
 * (counting from the end); Gather and GatherElements accept that, and the scatters get indices
 * made non-negative first.
 */
import { attr, type GraphBuilder } from "../builder.js";
import type { PartialTable } from "../types.js";

/** int32 indices as int64, with negative ones moved into [0, n). */
const normalized = (b: GraphBuilder, idx: string, n: number): string => {
  const i64 = b.cast(idx, "int32", "int64");
  const negative = b.op("Less", [i64, b.int64([0], [])]);
  return b.op("Where", [negative, b.op("Add", [i64, b.int64([n], [])]), i64]);
};

const iota = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from);

/** The indexing primitives' and matmul's lowerings. */
export const indexingLowerings: PartialTable<"take" | "addAt" | "gather" | "addAlongAxis" | "matmul"> = {
  take: ({ b, ins }, { axis }) => [b.op("Gather", [ins[0]!, ins[1]!], [attr.int("axis", axis)])],
  gather: ({ b, ins }, { axis }) => [b.op("GatherElements", [ins[0]!, ins[1]!], [attr.int("axis", axis)])],
  addAlongAxis: ({ b, ins, inAvals }, { axis }) => {
    const idx = normalized(b, ins[1]!, inAvals[0]!.shape[axis]!);
    return [
      b.op("ScatterElements", [ins[0]!, idx, ins[2]!], [attr.int("axis", axis), attr.string("reduction", "add")]),
    ];
  },
  // x[..., idx, ...] += values: the axis is moved first, so ScatterND adds whole slices of x at
  // the indices (repeated indices accumulate with reduction "add").
  addAt: ({ b, ins, inAvals }, { axis }) => {
    const [x, idx, values] = inAvals as [(typeof inAvals)[0], (typeof inAvals)[0], (typeof inAvals)[0]];
    const r = x.shape.length;
    const ni = idx.shape.length;
    const xPerm = [axis, ...iota(axis), ...iota(r - axis - 1, axis + 1)];
    const xInv = xPerm.map((_, i) => xPerm.indexOf(i));
    const vPerm = [...iota(ni, axis), ...iota(axis), ...iota(values.shape.length - axis - ni, axis + ni)];
    const xt = b.op("Transpose", [ins[0]!], [attr.ints("perm", xPerm)]);
    const vt = b.op("Transpose", [ins[2]!], [attr.ints("perm", vPerm)]);
    const i = b.op("Unsqueeze", [normalized(b, ins[1]!, x.shape[axis]!), b.int64([ni])]);
    const added = b.op("ScatterND", [xt, i, vt], [attr.string("reduction", "add")]);
    return [b.op("Transpose", [added], [attr.ints("perm", xInv)])];
  },
  matmul: ({ b, ins }) => [b.op("MatMul", [ins[0]!, ins[1]!])],
};
