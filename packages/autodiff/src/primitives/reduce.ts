/**
 * @file Reductions over a set of axes (keepDims is a reshape in the ops layer, not a param).
 */
import * as T from "@rewind/tensor";
import type { Aval } from "../Graph.js";
import type { Value } from "../core.js";
import { definePrimitive, noGradient, type BatchRule, type VjpRule } from "../Primitive.js";
import { shiftAxis } from "./batching.js";

/** Params of a reduction: the sorted, non-negative axes it removes. */
export interface AxesParams {
  /** The axes reduced, sorted and non-negative. */
  readonly axes: readonly number[];
}

const reducedAval = (x: Aval, axes: readonly number[], dtype = x.dtype): Aval => ({
  shape: x.shape.filter((_, i) => !axes.includes(i)),
  dtype,
});

/** Batching a reduction: its axes shift past the batch axis, which then sits before fewer axes. */
const reduceBatch: BatchRule<AxesParams> = ([x], { dims: [d], params: { axes }, bind }) => {
  const shifted = axes.map((a) => shiftAxis(a, d!));
  return [bind([x!], { axes: shifted }), [d! - shifted.filter((a) => a < d!).length]];
};

/** Batching argmax/argmin: the searched axis shifts past the batch axis. */
const argBatch: BatchRule<AxisParams> = ([x], { dims: [d], params: { axis }, bind }) => {
  const shifted = shiftAxis(axis, d!);
  return [bind([x!], { axis: shifted }), [shifted < d! ? d! - 1 : d!]];
};

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
  batch: reduceBatch,
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
  batch: reduceBatch,
});

/** Min over axes. NOTE: ties share the cotangent equally. */
export const reduceMin = definePrimitive<"reduceMin", AxesParams>({
  name: "reduceMin",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.min(x!, { axis: axes })],
  // d min(x) = dx at the argmin (shared among ties)
  vjp: extremeVjp,
  batch: reduceBatch,
});

/**
 * Π over axes. NOTE: the cotangent is Π_{j≠i} x_j, computed without dividing by zero and so that
 * its own derivative (the Hessian of Π) is exact too, whatever the zeros: at a non-zero x_i it is
 * y / x_i (y the output); at a zero it is P · Π_{other zeros} x_z with P the product of the
 * non-zeros, i.e. P with one zero, P times the other zero with two (0 in value, but d/d(that
 * zero) = P), and 0 with three or more.
 */
export const prod = definePrimitive<"prod", AxesParams>({
  name: "prod",
  abstractEval: ([x], { axes }) => [reducedAval(x!, axes)],
  impl: ([x], { axes }) => [T.prod(x!, { axis: axes })],
  // d Πx / dx_i = Π_{j≠i} x_j
  vjp: ([g], { ins: [x], outs: [y], params: { axes } }, k) => {
    const kept = keptShape(x!, axes);
    const back = (v: Value) => k.broadcastTo(k.reshape(v, kept), x!.shape);
    const isZero = k.equal(x!, 0);
    // x with its zeros replaced by 1: a denominator that is never 0, so the branch `where` discards
    // cannot turn a cotangent into NaN.
    const safe = k.where(isZero, 1, x!);
    const zeros = back(k.sum(k.astype(isZero, x!.dtype), { axis: axes }));
    const nonzeroProd = back(k.prod(safe, { axis: axes }));
    // Σ of the zero entries: 0 in value, derivative 1 at each zero; minus x_i it is "the other zero".
    const otherZero = k.sub(back(k.sum(k.where(isZero, x!, 0), { axis: axes })), x!);
    const atZero = k.mul(nonzeroProd, k.where(k.equal(zeros, 1), 1, k.where(k.equal(zeros, 2), otherZero, 0)));
    const others = k.where(isZero, atZero, k.div(back(y!), safe));
    return [k.mul(back(g!), others)];
  },
  batch: reduceBatch,
});

/** Params of argmax/argmin: one axis. */
export interface AxisParams {
  /** The axis searched, non-negative. */
  readonly axis: number;
}

/** Index of the max along an axis (int32, first occurrence); no gradient. */
export const argmax = definePrimitive<"argmax", AxisParams>({
  name: "argmax",
  abstractEval: ([x], { axis }) => [reducedAval(x!, [axis], "int32")],
  impl: ([x], { axis }) => [T.argmax(x!, { axis })],
  vjp: noGradient,
  batch: argBatch,
});

/** Index of the min along an axis (int32, first occurrence); no gradient. */
export const argmin = definePrimitive<"argmin", AxisParams>({
  name: "argmin",
  abstractEval: ([x], { axis }) => [reducedAval(x!, [axis], "int32")],
  impl: ([x], { axis }) => [T.argmin(x!, { axis })],
  vjp: noGradient,
  batch: argBatch,
});

/** The reduction primitives, keyed by name. */
export const reducePrimitives = { sum, reduceMax, reduceMin, prod, argmax, argmin } as const;
