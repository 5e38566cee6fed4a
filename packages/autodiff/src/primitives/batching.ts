/**
 * @file Helpers shared by the batching rules (`vmap`): moving a batch axis, giving an unbatched
 * operand one, shifting per-example axes past the batch axis, and the rule every elementwise
 * primitive uses. Written with the graph ops of `kit`, like the VJP rules, so a batched program
 * is made of ordinary equations.
 */
import type { Value } from "../core.js";
import type { Kit } from "../kit.js";
import type { BatchContext, BatchDim, BatchResult } from "../Primitive.js";

/** `[0, 1, …, n − 1]`. */
export const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Moves axis `from` of `x` to position `to` (a no-op when they are equal).
 * @example moveAxis(kit, zeros([2, 3, 4]), 2, 0).shape // [4, 2, 3]
 */
export const moveAxis = (k: Kit, x: Value, from: number, to: number): Value => {
  if (from === to) return x;
  const perm = iota(x.shape.length).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return k.transpose(x, perm);
};

/** `shape` with `d` inserted at position `at`. */
export const insertAt = (shape: readonly number[], at: number, d: number): number[] => [
  ...shape.slice(0, at),
  d,
  ...shape.slice(at),
];

/**
 * `x` with its batch axis at `to`: moved there when it has one (`dim`), else broadcast along a new
 * axis of `size` (an operand shared by every example, read by a primitive that needs one shape).
 * @example materialize(kit, zeros([3]), null, 5, 0).shape // [5, 3]
 */
export const materialize = (k: Kit, x: Value, dim: BatchDim, size: number, to: number): Value => {
  if (dim !== null) return moveAxis(k, x, dim, to);
  const shape = insertAt(x.shape, to, size);
  return k.broadcastTo(k.reshape(x, insertAt(x.shape, to, 1)), shape);
};

/** The first batch axis among `dims` (rules run only when one input is batched). */
export const firstDim = (dims: readonly BatchDim[]): number => dims.find((d) => d !== null) ?? 0;

/** A per-example axis as an axis of the batched value whose batch axis is `d`. */
export const shiftAxis = (axis: number, d: number): number => (axis >= d ? axis + 1 : axis);

/**
 * The rule of every elementwise primitive (and of `concat`'s operands): all operands get the
 * batch axis of the first batched one, the primitive runs once, its outputs keep that axis.
 */
export const elementwiseBatch = <P>(
  ins: readonly Value[],
  { dims, size, params, bind }: BatchContext<P>,
  k: Kit,
): BatchResult => {
  const d = firstDim(dims);
  const outs = bind(
    ins.map((x, i) => materialize(k, x, dims[i]!, size, d)),
    params,
  );
  return [outs, outs.map(() => d)];
};

/** The rule of a primitive that acts on each element alone and keeps its one input's layout. */
export const sameLayoutBatch = <P>(ins: readonly Value[], { dims, params, bind }: BatchContext<P>): BatchResult => {
  const outs = bind(ins, params);
  return [outs, outs.map(() => dims[0]!)];
};
