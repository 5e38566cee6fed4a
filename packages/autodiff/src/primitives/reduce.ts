/**
 * @file Reductions over a set of axes (keepDims is a reshape in the ops layer, not a param).
 */
import * as T from "@rewind/tensor";
import type { Aval } from "../Graph.js";
import type { Value } from "../core.js";
import { definePrimitive, noGradient, type VjpRule } from "../Primitive.js";

/** Params of a reduction: the sorted, non-negative axes it removes. */
export interface AxesParams {
  readonly axes: readonly number[];
}

const reducedAval = (x: Aval, axes: readonly number[], dtype = x.dtype): Aval => ({
  shape: x.shape.filter((_, i) => !axes.includes(i)),
  dtype,
});

const keptShape = (x: Aval | T.Tensor, axes: readonly number[]): number[] =>
  x.shape.map((d, i) => (axes.includes(i) ? 1 : d));

/** Σ over axes. */
export const sum = definePrimitive<"sum", AxesParams>({
  name: "sum",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.sum(x!, { axis: axes })],
  // d Σx = broadcast of the cotangent back over the summed axes
  vjp: ([g], { ins: [x], params: { axes } }, { reshape, broadcastTo }) => [
    broadcastTo(reshape(g!, keptShape(x!, axes)), x!.shape),
  ],
});

/** The cotangent of max/min: split equally among the positions that attain the extreme. */
const extremeVjp: VjpRule<AxesParams> = ([g], { ins: [x], outs: [y], params: { axes } }, k) => {
  const kept = keptShape(x!, axes);
  const hit = k.equal(x!, k.broadcastTo(k.reshape(y!, kept), x!.shape));
  const count = k.sum(k.astype(hit, x!.dtype), { axis: axes, keepDims: true });
  return [k.where(hit, k.div(k.broadcastTo(k.reshape(g!, kept), x!.shape), count), 0)];
};

/** Max over axes. NOTE: ties share the cotangent equally (as JAX's reduce_max). */
export const reduceMax = definePrimitive<"reduceMax", AxesParams>({
  name: "reduceMax",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.max(x!, { axis: axes })],
  // d max(x) = dx at the argmax (shared among ties)
  vjp: extremeVjp,
});

/** Min over axes. NOTE: ties share the cotangent equally. */
export const reduceMin = definePrimitive<"reduceMin", AxesParams>({
  name: "reduceMin",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.min(x!, { axis: axes })],
  // d min(x) = dx at the argmin (shared among ties)
  vjp: extremeVjp,
});

/**
 * Π over axes. NOTE: the cotangent is Π_{j≠i} x_j, computed without dividing by zero: with no
 * zero it is prod / x_i; with exactly one zero only that position gets the product of the others;
 * with two or more zeros it is 0 everywhere.
 */
export const prod = definePrimitive<"prod", AxesParams>({
  name: "prod",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.prod(x!, { axis: axes })],
  // d Πx / dx_i = Π_{j≠i} x_j
  vjp: ([g], { ins: [x], params: { axes } }, k) => {
    const kept = keptShape(x!, axes);
    const back = (v: Value) => k.broadcastTo(k.reshape(v, kept), x!.shape);
    const isZero = k.equal(x!, 0);
    const zeros = k.sum(k.astype(isZero, x!.dtype), { axis: axes, keepDims: true });
    const nonzeroProd = k.prod(k.where(isZero, 1, x!), { axis: axes, keepDims: true });
    const others = k.where(
      isZero,
      k.where(k.equal(k.broadcastTo(zeros, x!.shape), 1), k.broadcastTo(nonzeroProd, x!.shape), 0),
      k.where(k.equal(k.broadcastTo(zeros, x!.shape), 0), k.div(k.broadcastTo(nonzeroProd, x!.shape), k.where(isZero, 1, x!)), 0),
    );
    return [k.mul(back(g!), others)];
  },
});

/** Params of argmax/argmin: one axis. */
export interface AxisParams {
  readonly axis: number;
}

/** Index of the max along an axis (int32, first occurrence); no gradient. */
export const argmax = definePrimitive<"argmax", AxisParams>({
  name: "argmax",
  abstractEval: ([x], { axis }) => [reducedAval(x!, [axis], "int32")],
  impl: ([x], { axis }) => [T.argmax(x!, { axis })],
  vjp: noGradient,
});

/** Index of the min along an axis (int32, first occurrence); no gradient. */
export const argmin = definePrimitive<"argmin", AxisParams>({
  name: "argmin",
  abstractEval: ([x], { axis }) => [reducedAval(x!, [axis], "int32")],
  impl: ([x], { axis }) => [T.argmin(x!, { axis })],
  vjp: noGradient,
});

/** The reduction primitives, keyed by name. */
export const reducePrimitives = { sum, reduceMax, reduceMin, prod, argmax, argmin } as const;
