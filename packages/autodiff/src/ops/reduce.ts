/**
 * @file Reductions on values, and the stable composites built from them (logSumExp, softmax,
 * logSoftmax) — composites because a stop-gradient max shift makes them exact for ±1000 and
 * leaves the gradient to the primitives.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import type { AnyPrimitive } from "../Primitive.js";
import * as R from "../primitives/reduce.js";
import { reshape } from "./shape.js";
import { add, exp, isFinite, log, sub, div, where } from "./elementwise.js";
import { astype, broadcastTo, expectValue } from "./lift.js";
import { expectFlag, expectOptions } from "../check.js";
import { stopGradient } from "./special.js";

/** Which axes to reduce (default all; negative allowed) and whether to keep them as size 1. */
export interface ReduceOptions {
  /** The axis or axes to reduce; negative counts from the end (default: every axis). */
  readonly axis?: number | readonly number[];
  /** Keep each reduced axis as size 1, so the result broadcasts against the input (default false). */
  readonly keepDims?: boolean;
}

const resolveAxes = (op: string, x: Value, axis: ReduceOptions["axis"]): number[] =>
  axis === undefined
    ? x.shape.map((_, i) => i)
    : T.normalizeAxes(op, "axis", typeof axis === "number" ? [axis] : axis, x.shape.length);

/**
 * Validates a reduction's options object (only `axis` and `keepDims`; `single` allows one axis at
 * most) so a typo or a wrong type is an error rather than a silent full reduction.
 */
const readOptions = (
  op: string,
  opts: unknown,
  single = false,
): { axis: number | readonly number[] | undefined; keepDims: boolean } => {
  const o = expectOptions(op, opts, ["axis", "keepDims"]);
  const keepDims = expectFlag(op, "options.keepDims", o.keepDims) ?? false;
  const axis = o.axis;
  if (axis !== undefined && typeof axis !== "number" && (single || !Array.isArray(axis))) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "options.axis",
      detail: `axis must be ${single ? "an integer" : "an integer or an array of integers"}`,
      fix: single ? "pass one axis, or omit it" : "pass { axis: 0 } or { axis: [0, 1] }, or omit it",
    });
  }
  return { axis: axis as number | readonly number[] | undefined, keepDims };
};

const reduceWith = (prim: AnyPrimitive, x: Value, axes: readonly number[], keepDims: boolean): Value => {
  const out = bind(prim, [x], { axes: Object.freeze([...axes]) })[0]!;
  return keepDims
    ? reshape(
        out,
        x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      )
    : out;
};

/**
 * Σ over axes (all by default); ints and bools sum as int32.
 * @example sum(tensor([[1, 2], [3, 4]]), { axis: 0 }) // [4, 6]
 */
export const sum = (x: Value, options: ReduceOptions = {}): Value => {
  const v = expectValue("sum", "x", x);
  const opts = readOptions("sum", options);
  const axes = resolveAxes("sum", v, opts.axis);
  return reduceWith(R.sum, v.dtype === "bool" ? astype(v, "int32") : v, axes, opts.keepDims);
};

/**
 * Mean over axes (all by default); ints give float32. The mean of nothing is NaN.
 * @example mean(tensor([1, 2, 3, 4])) // 2.5
 */
export const mean = (x: Value, options: ReduceOptions = {}): Value => {
  const v = expectValue("mean", "x", x);
  const opts = readOptions("mean", options);
  const axes = resolveAxes("mean", v, opts.axis);
  const count = axes.reduce((n, a) => n * v.shape[a]!, 1);
  const total = sum(T.isFloating(v.dtype) ? v : astype(v, "float32"), { axis: axes, keepDims: opts.keepDims });
  return div(total, count);
};

const extreme =
  (op: "max" | "min", prim: AnyPrimitive) =>
  (x: Value, options: ReduceOptions = {}): Value => {
    const v = expectValue(op, "x", x);
    const opts = readOptions(op, options);
    const axes = resolveAxes(op, v, opts.axis);
    const empty = axes.find((a) => v.shape[a] === 0);
    if (empty !== undefined) {
      T.fail({
        _tag: "ValueError",
        op,
        arg: "x",
        detail: `cannot take the ${op} over axis ${empty} of size 0 (shape ${T.formatShape(
          v.shape,
        )}); a ${op} of nothing has no identity`,
        fix: "reduce over non-empty axes, or use logSumExp / where with a default",
      });
    }
    return reduceWith(prim, v, axes, opts.keepDims ?? false);
  };

/** Max over axes; ties share the gradient. @example max(tensor([1, 3, 2])) // 3 */
export const max: (x: Value, opts?: ReduceOptions) => Value = extreme("max", R.reduceMax);
/** Min over axes; ties share the gradient. @example min(tensor([1, 3, 2])) // 1 */
export const min: (x: Value, opts?: ReduceOptions) => Value = extreme("min", R.reduceMin);

/**
 * Π over axes (all by default); the gradient is exact with zeros present.
 * @example prod(tensor([2, 3])) // 6
 */
export const prod = (x: Value, options: ReduceOptions = {}): Value => {
  const v = expectValue("prod", "x", x);
  const opts = readOptions("prod", options);
  return reduceWith(
    R.prod,
    v.dtype === "bool" ? astype(v, "int32") : v,
    resolveAxes("prod", v, opts.axis),
    opts.keepDims,
  );
};

const argExtreme =
  (op: "argmax" | "argmin", prim: AnyPrimitive) =>
  (x: Value, options: { readonly axis?: number; readonly keepDims?: boolean } = {}): Value => {
    const v = expectValue(op, "x", x);
    const opts = readOptions(op, options, true) as { readonly axis?: number; readonly keepDims: boolean };
    const flat = opts.axis === undefined ? reshape(v, [T.sizeOf(v.shape)]) : v;
    const axis = opts.axis === undefined ? 0 : T.normalizeAxis(op, "axis", opts.axis, v.shape.length);
    if (flat.shape[axis] === 0) {
      T.fail({
        _tag: "ValueError",
        op,
        arg: "x",
        detail: `axis ${axis} has size 0`,
        fix: "take it over a non-empty axis",
      });
    }
    const out = bind(prim, [flat], { axis })[0]!;
    if (!opts.keepDims) return out;
    return reshape(out, opts.axis === undefined ? v.shape.map(() => 1) : v.shape.map((d, i) => (i === axis ? 1 : d)));
  };

/** Index of the max (int32; flattened without an axis; first on ties). @example argmax(tensor([1, 3, 2])) // 1 */
export const argmax: (x: Value, opts?: { readonly axis?: number; readonly keepDims?: boolean }) => Value = argExtreme(
  "argmax",
  R.argmax,
);
/** Index of the min (int32; flattened without an axis; first on ties). @example argmin(tensor([1, 3, 2])) // 0 */
export const argmin: (x: Value, opts?: { readonly axis?: number; readonly keepDims?: boolean }) => Value = argExtreme(
  "argmin",
  R.argmin,
);

/**
 * Sums `x` down to `shape`, the reverse of broadcasting (the VJP of `broadcastTo`).
 * @example sumTo(ones([2, 3]), [1, 3]) // [[2, 2, 2]]
 */
export const sumTo = (x: Value, shape: readonly number[]): Value => {
  const v = expectValue("sumTo", "x", x);
  const target = T.validateShape("sumTo", "shape", shape);
  const lead = v.shape.length - target.length;
  if (lead < 0 || target.some((d, i) => d !== 1 && d !== v.shape[lead + i])) {
    T.fail({
      _tag: "ShapeError",
      op: "sumTo",
      arg: "shape",
      shapes: [v.shape, target],
      detail: `${T.formatShape(target)} does not broadcast to x's shape ${T.formatShape(v.shape)}`,
      fix: "pass a shape that broadcasts to x.shape (each aligned axis equal or 1, no extra leading axes)",
    });
  }
  // Same dtypes as sum (bool sums to int32), also when there is nothing to sum.
  if (T.shapesEqual(v.shape, target)) return v.dtype === "bool" ? astype(v, "int32") : v;
  return sumToChecked(v, target, lead);
};

const sumToChecked = (x: Value, shape: readonly number[], lead: number): Value => {
  const axes = x.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1));
  return reshape(sum(x, { axis: axes }), shape);
};

/** The max over axes with its gradient stopped, and 0 where it is not finite (all −Inf masks). */
const stableShift = (x: Value, axes: readonly number[]): Value => {
  // An empty group has no max; shifting it by 0 makes logSumExp −Inf (the log of an empty sum).
  if (axes.some((a) => x.shape[a] === 0))
    return broadcastTo(
      T.scalar(0, x.dtype),
      x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
    );
  const m = stopGradient(max(x, { axis: axes, keepDims: true }));
  return where(isFinite(m), m, 0);
};

/**
 * log Σ exp(x) over axes, exact for large |x| (shifted by the max) and −Inf-mask safe.
 * @example logSumExp(tensor([1000, 1000])) // 1000.6931
 */
export const logSumExp = (x: Value, options: ReduceOptions = {}): Value => {
  const v = expectValue("logSumExp", "x", x);
  const opts = readOptions("logSumExp", options);
  const f = T.isFloating(v.dtype) ? v : astype(v, "float32");
  const axes = resolveAxes("logSumExp", f, opts.axis);
  const shift = stableShift(f, axes);
  const out = add(log(sum(exp(sub(f, shift)), { axis: axes, keepDims: true })), shift);
  return opts.keepDims
    ? out
    : reshape(
        out,
        f.shape.filter((_, i) => !axes.includes(i)),
      );
};

/**
 * exp(x) / Σ exp(x) along an axis, computed with the max shift.
 * @example softmax(tensor([0, 0])) // [0.5, 0.5]
 */
export const softmax = (x: Value, axis = -1): Value => {
  const v = expectValue("softmax", "x", x);
  const f = T.isFloating(v.dtype) ? v : astype(v, "float32");
  const a = T.normalizeAxis("softmax", "axis", axis, f.shape.length);
  const e = exp(sub(f, stableShift(f, [a])));
  return div(e, sum(e, { axis: a, keepDims: true }));
};

/**
 * log softmax along an axis: x − logSumExp(x), computed as (x − m) − log Σ exp(x − m).
 * @example logSoftmax(tensor([0, 0])) // [-0.6931, -0.6931]
 */
export const logSoftmax = (x: Value, axis = -1): Value => {
  const v = expectValue("logSoftmax", "x", x);
  const f = T.isFloating(v.dtype) ? v : astype(v, "float32");
  const a = T.normalizeAxis("logSoftmax", "axis", axis, f.shape.length);
  // NOTE: not x − logSumExp(x): rounding m + log Σ to the dtype first costs up to half an ulp of
  // |m| (5e-4 in float32 at |x| = 1e4, so logSoftmax([1e4, 1e4]) was −0.69336), while x − m is
  // exact near the max and log Σ lies in [0, log n]. The gradient is unchanged (m is stopped).
  const shifted = sub(f, stableShift(f, [a]));
  return sub(shifted, log(sum(exp(shifted), { axis: a, keepDims: true })));
};
