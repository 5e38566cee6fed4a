/**
 * @file Reductions over axes: sum, mean, prod, max, min, argmax, argmin, and sumTo.
 *
 * Every reduction is planned the same way (`planReduction`): the input's axes split into kept
 * and reduced ones; each output element owns a "group" of input elements, found as a base offset
 * (one per output, from the kept axes) plus a within-group offset (one per group member, from the
 * reduced axes). Both offset lists come from `viewOffsets`, so no reduction does its own index
 * arithmetic. Groups are folded in row-major order of the reduced axes, which fixes the order of
 * floating-point accumulation whatever loop order a kernel picks.
 *
 * Semantics follow NumPy: `axis` undefined reduces every axis, `axis: []` reduces none, negative
 * axes count from the end, duplicates are rejected. Empty groups give the identity (sum 0,
 * prod 1), NaN for mean, and an error for max/min/argmax/argmin, which have no identity.
 */
import type { ReadonlyTypedArray } from "../Buffer.js";
import { checkFlag, checkOptions, checkTensor } from "../check.js";
import { allocate, floatResultType, type DType } from "../DType.js";
import { fail, formatShape } from "../errors.js";
import { normalizeAxes, normalizeAxis, sizeOf, stridesOf, validateShape, type Shape } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { viewOffsets } from "./strided.js";

/**
 * Which axes a reduction folds, and whether they stay as size-1 axes in the result. Both fields
 * also accept an explicit `undefined`, so callers can forward their own optional options.
 * @example const opts: ReduceOptions = { axis: [0, -1], keepDims: true }
 */
export interface ReduceOptions {
  /** Axis or axes to reduce; negative counts from the end; undefined means all; `[]` means none. */
  readonly axis?: number | readonly number[] | undefined;
  /** Keep each reduced axis as size 1, so the result broadcasts against the input. */
  readonly keepDims?: boolean | undefined;
}

/**
 * A reduction's layout: for output element `o`, its group is `data[outer[o] + inner[j]]` for
 * `j < count`, in row-major order of the reduced axes.
 * @internal Shared by the reduction and softmax kernels; not part of the public API.
 * @example planReduction("sum", [2, 3], 0, false).inner // Int32Array [0, 3]
 */
export interface ReductionPlan {
  /** The reduced axes, normalised and sorted. */
  readonly axes: readonly number[];
  /** The result's shape (reduced axes dropped, or kept as 1 with `keepDims`). */
  readonly outShape: Shape;
  /** Base offset in the input of each output element's group (length = output size). */
  readonly outer: Int32Array;
  /** Offset of each group member relative to its base (length = `count`). */
  readonly inner: Int32Array;
  /** Elements per group: the product of the reduced axes' sizes (1 when no axis is reduced). */
  readonly count: number;
  /** True when the input's last axis is kept, so consecutive outputs read consecutive memory. */
  readonly lastAxisKept: boolean;
}

/**
 * Validates a reduction's tensor and options (a plain object with only `axis` and `keepDims`;
 * `single` allows one axis at most, for argmax/argmin) and returns them.
 * @internal Shared by the reduction and softmax kernels; not part of the public API.
 * @example reduceArgs("sum", x, { axis: 0 }) // [0, false]
 */
export const reduceArgs = (
  op: string,
  x: Tensor,
  opts: unknown,
  single = false,
): [number | readonly number[] | undefined, boolean] => {
  checkTensor(op, "x", x);
  const o = checkOptions(op, opts, ["axis", "keepDims"]);
  const keepDims = checkFlag(op, "options.keepDims", o.keepDims) ?? false;
  const axis = o.axis;
  if (axis !== undefined && typeof axis !== "number" && (single || !Array.isArray(axis))) {
    return fail({
      _tag: "ValueError",
      op,
      arg: "options.axis",
      detail:
        `axis must be ${single ? "an integer" : "an integer or an array of integers"}, got ` +
        (typeof axis === "string" ? JSON.stringify(axis) : Array.isArray(axis) ? "an array" : typeof axis),
      fix: single
        ? "pass one axis, e.g. { axis: -1 }, or omit it to search the flattened tensor"
        : "pass { axis: 0 }, { axis: [0, 1] }, or omit it to reduce every axis",
    });
  }
  return [axis as number | readonly number[] | undefined, keepDims];
};

/** `[0, step, 2·step, ...]`, `n` entries. */
const progression = (n: number, step: number): Int32Array => {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i * step;
  return out;
};

/**
 * Plans a reduction of a tensor of `shape` over `axis`, validating the axes for `op`.
 * @internal Shared by the reduction and softmax kernels; not part of the public API.
 * @example planReduction("sum", [2, 3], 1, false).outShape // [2]
 */
export const planReduction = (
  op: string,
  shape: Shape,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
): ReductionPlan => {
  const rank = shape.length;
  const axes =
    axis === undefined
      ? shape.map((_, i) => i)
      : typeof axis === "number"
        ? [normalizeAxis(op, "axis", axis, rank)]
        : normalizeAxes(op, "axis", axis, rank);
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  const strides = stridesOf(shape);
  // Setting the other group's axes to size 1 pins their index at 0, so one stride list serves both.
  const keptShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const reducedShape = shape.map((d, i) => (reduced[i] ? d : 1));
  const outShape = keepDims ? keptShape : shape.filter((_, i) => !reduced[i]);
  const count = sizeOf(reducedShape);
  const outSize = sizeOf(keptShape);
  // The common layouts (reduce the trailing axes, e.g. all or the last; or the leading ones, e.g.
  // the batch) are arithmetic progressions: fill them directly instead of walking an odometer.
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  const leading = axes.every((a, i) => a === i);
  return {
    axes,
    outShape: Object.freeze(outShape),
    outer: trailing
      ? progression(outSize, count)
      : leading
        ? progression(outSize, 1)
        : viewOffsets(keptShape, strides, 0),
    inner: trailing
      ? progression(count, 1)
      : leading
        ? progression(count, outSize)
        : viewOffsets(reducedShape, strides, 0),
    count,
    lastAxisKept: rank > 0 && !reduced[rank - 1],
  };
};

/** Throws the NumPy-style error for a reduction without an identity over an empty group. */
const noIdentity = (op: "max" | "min", plan: ReductionPlan, shape: Shape): never =>
  fail({
    _tag: "ValueError",
    op,
    arg: "x",
    detail:
      `zero-size array to reduction operation ${op === "max" ? "maximum" : "minimum"} which has no identity ` +
      `(shape ${formatShape(shape)}, reducing axes ${formatShape(plan.axes)})`,
    fix: "reduce only over non-empty axes, or check the size before reducing",
  });

/**
 * Folds every group into a double accumulator. Sums in JavaScript doubles, so float32 input is
 * accumulated in float64 and rounded once at the end. With `wrap`, each step is truncated to
 * int32, giving exact two's-complement wraparound like NumPy's int32 sum.
 */
const accumulate = (plan: ReductionPlan, data: ReadonlyTypedArray, wrap: boolean): Float64Array => {
  const { outer, inner, count } = plan;
  const outSize = outer.length;
  const acc = new Float64Array(outSize);
  if (plan.lastAxisKept && count > 1 && outSize > 1) {
    // Reducing leading axes (e.g. a bias gradient summed over the batch): walk the reduced index
    // outermost so the inner loop reads consecutive memory. The per-output order is unchanged.
    for (let j = 0; j < count; j++) {
      const off = inner[j]!;
      if (wrap) for (let o = 0; o < outSize; o++) acc[o] = (acc[o]! + data[outer[o]! + off]!) | 0;
      else for (let o = 0; o < outSize; o++) acc[o] = acc[o]! + data[outer[o]! + off]!;
    }
    return acc;
  }
  for (let o = 0; o < outSize; o++) {
    const base = outer[o]!;
    let s = 0;
    if (wrap) for (let j = 0; j < count; j++) s = (s + data[base + inner[j]!]!) | 0;
    else for (let j = 0; j < count; j++) s += data[base + inner[j]!]!;
    acc[o] = s;
  }
  return acc;
};

const intResult = (dtype: DType): DType => (dtype === "bool" ? "int32" : dtype);

/**
 * Sum over axes. `int32` and `bool` give `int32` (wrapping on overflow, as NumPy's int32 does);
 * float32 is accumulated in float64 and rounded once. An empty sum is 0.
 * @example sum(tensor([[1, 2], [3, 4]]), { axis: 0 }).data // Float32Array [4, 6]
 */
export const sum = (x: Tensor, opts: ReduceOptions = {}): Tensor => {
  const [axis, keepDims] = reduceArgs("sum", x, opts);
  const plan = planReduction("sum", x.shape, axis, keepDims);
  const dtype = intResult(x.dtype);
  const acc = accumulate(plan, x.data, dtype === "int32");
  const out = allocate(dtype, acc.length);
  out.set(acc);
  return fromBuffer(dtype, plan.outShape, out);
};

/**
 * Arithmetic mean over axes, accumulated in float64. `int32`/`bool` give `float32`; a mean over
 * zero elements is NaN (NumPy returns NaN with a warning).
 * @example mean(tensor([1, 2, 3, 4])).data // Float32Array [2.5]
 */
export const mean = (x: Tensor, opts: ReduceOptions = {}): Tensor => {
  const [axis, keepDims] = reduceArgs("mean", x, opts);
  const plan = planReduction("mean", x.shape, axis, keepDims);
  const dtype = floatResultType(x.dtype);
  const acc = accumulate(plan, x.data, false);
  const out = allocate(dtype, acc.length);
  for (let o = 0; o < acc.length; o++) out[o] = acc[o]! / plan.count;
  return fromBuffer(dtype, plan.outShape, out);
};

/**
 * Product over axes. `int32` and `bool` give `int32`, wrapping on overflow (`Math.imul` keeps it
 * exact); floats multiply in float64 and round once. An empty product is 1.
 * @example prod(tensor([[1, 2], [3, 4]]), { axis: 1 }).data // Float32Array [2, 12]
 */
export const prod = (x: Tensor, opts: ReduceOptions = {}): Tensor => {
  const [axis, keepDims] = reduceArgs("prod", x, opts);
  const plan = planReduction("prod", x.shape, axis, keepDims);
  const dtype = intResult(x.dtype);
  const { outer, inner, count } = plan;
  const data = x.data;
  const out = allocate(dtype, outer.length);
  const int = dtype === "int32";
  for (let o = 0; o < outer.length; o++) {
    const base = outer[o]!;
    let p = 1;
    if (int) for (let j = 0; j < count; j++) p = Math.imul(p, data[base + inner[j]!]!);
    else for (let j = 0; j < count; j++) p *= data[base + inner[j]!]!;
    out[o] = p;
  }
  return fromBuffer(dtype, plan.outShape, out);
};

/** Shared body of max and min: first element, then replace when `better` or NaN (NaN sticks). */
const extreme = (op: "max" | "min", x: Tensor, opts: ReduceOptions): Tensor => {
  const [axis, keepDims] = reduceArgs(op, x, opts);
  const plan = planReduction(op, x.shape, axis, keepDims);
  const { outer, inner, count } = plan;
  if (count === 0) return noIdentity(op, plan, x.shape);
  const data = x.data;
  const out = allocate(x.dtype, outer.length);
  const sign = op === "max" ? 1 : -1;
  for (let o = 0; o < outer.length; o++) {
    const base = outer[o]!;
    let best = data[base]!;
    // `best !== best` is the NaN test: once NaN, the group's answer is NaN (NumPy propagates it).
    for (let j = 1; j < count && best === best; j++) {
      const v = data[base + inner[j]!]!;
      if (v !== v || sign * (v - best) > 0) best = v;
    }
    out[o] = best;
  }
  return fromBuffer(x.dtype, plan.outShape, out);
};

/**
 * Maximum over axes; keeps the dtype; NaN wins. Throws a `ValueError` when a group is empty.
 * @example max(tensor([[1, 5], [3, 2]]), { axis: 1 }).data // Float32Array [5, 3]
 */
export const max = (x: Tensor, opts: ReduceOptions = {}): Tensor => extreme("max", x, opts);

/**
 * Minimum over axes; keeps the dtype; NaN wins. Throws a `ValueError` when a group is empty.
 * @example min(tensor([[1, 5], [3, 2]]), { axis: 0 }).data // Float32Array [1, 2]
 */
export const min = (x: Tensor, opts: ReduceOptions = {}): Tensor => extreme("min", x, opts);

/**
 * Options of `argmax`/`argmin`: one axis at most (undefined: the flattened tensor).
 * @example const opts: ArgReduceOptions = { axis: -1, keepDims: true }
 */
export interface ArgReduceOptions {
  /** The axis to search along; undefined searches the flattened tensor. */
  readonly axis?: number | undefined;
  /** Keep the searched axis (or, with no axis, every axis) as size 1. */
  readonly keepDims?: boolean | undefined;
}

const argExtreme = (op: "argmax" | "argmin", x: Tensor, opts: ArgReduceOptions): Tensor => {
  const [axis, keepDims] = reduceArgs(op, x, opts, true);
  const plan = planReduction(op, x.shape, axis, keepDims);
  const { outer, inner, count } = plan;
  if (count === 0) {
    return fail({
      _tag: "ValueError",
      op,
      arg: "x",
      detail:
        `attempt to get ${op} of an empty sequence ` +
        `(shape ${formatShape(x.shape)}, axis ${String(axis ?? "none")})`,
      fix: "search only along a non-empty axis",
    });
  }
  const data = x.data;
  const out = new Int32Array(outer.length);
  const sign = op === "argmax" ? 1 : -1;
  for (let o = 0; o < outer.length; o++) {
    const base = outer[o]!;
    let best = data[base]!;
    let at = 0;
    // Strict comparison keeps the first of equal values; the first NaN ends the search (NumPy).
    for (let j = 1; j < count && best === best; j++) {
      const v = data[base + inner[j]!]!;
      if (v !== v || sign * (v - best) > 0) {
        best = v;
        at = j;
      }
    }
    out[o] = at;
  }
  // With one axis `at` is already the index along it; with no axis, group order is row-major
  // over all axes, so `at` is the flat index.
  return fromBuffer("int32", plan.outShape, out);
};

/**
 * Index of the maximum along `axis` (or in the flattened tensor), as `int32`. Ties give the first
 * index, and the first NaN counts as the maximum (NumPy). Throws a `ValueError` on an empty axis.
 * @example argmax(tensor([[1, 5], [7, 2]]), { axis: 1 }).data // Int32Array [1, 0]
 */
export const argmax = (x: Tensor, opts: ArgReduceOptions = {}): Tensor => argExtreme("argmax", x, opts);

/**
 * Index of the minimum along `axis` (or in the flattened tensor), as `int32`. Ties give the first
 * index, and the first NaN counts as the minimum (NumPy). Throws a `ValueError` on an empty axis.
 * @example argmin(tensor([[1, 5], [7, 2]])).data // Int32Array [0]
 */
export const argmin = (x: Tensor, opts: ArgReduceOptions = {}): Tensor => argExtreme("argmin", x, opts);

/**
 * Sums `x` down to `shape`: the reverse of broadcasting `shape` up to `x.shape`. Sums over the
 * leading axes `shape` lacks and over the axes where `shape` has 1 and `x` does not. It is the
 * VJP of `broadcastTo`. Returns `x` itself when the shapes already match. Same dtypes as `sum`.
 * @throws TensorException (`ShapeError`) when `shape` does not broadcast to `x.shape`.
 * @example sumTo(tensor([[1, 2], [3, 4]]), [1, 2]).data // Float32Array [4, 6]
 */
export const sumTo = (x: Tensor, shape: Shape): Tensor => {
  checkTensor("sumTo", "x", x);
  const target = validateShape("sumTo", "shape", shape);
  const lead = x.shape.length - target.length;
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let i = 0; i < target.length; i++) {
    const want = target[i]!;
    const have = lead >= 0 ? x.shape[lead + i]! : -1;
    if (lead < 0 || (want !== have && want !== 1)) {
      return fail({
        _tag: "ShapeError",
        op: "sumTo",
        arg: "shape",
        shapes: [x.shape, target],
        detail:
          lead < 0
            ? `target rank ${target.length} exceeds the input's rank ${x.shape.length}`
            : `target axis ${i} has size ${want} but the input's aligned axis ${lead + i} has size ${have}`,
        fix: "pass a shape that broadcasts to x.shape (each aligned axis equal or 1, no extra leading axes)",
      });
    }
    if (want === 1 && have !== 1) axes.push(lead + i);
  }
  if (axes.length === 0 && lead === 0 && x.dtype !== "bool") return x;
  // keepDims leaves exactly target's dims behind the leading axes, so the same buffer serves as
  // `target` once those (now size 1) leading axes are dropped.
  const summed = sum(x, { axis: axes, keepDims: true });
  return fromBuffer(summed.dtype, target, summed.data);
};
