/**
 * @file Integer indexing: take, gather (take-along-axis), oneHot, and the scatter-adds that are
 * their adjoints (`addAt` for `take`, `addAlongAxis` for `gather`).
 *
 * Around the indexed axis a row-major tensor is `outer × size × inner`, so `take` copies whole
 * `inner`-long rows. `gather` pairs every output element with one index and one source row, which
 * the strided walker lists for us with broadcast strides. The scatter-adds copy `x` first and
 * accumulate into the copy, so repeated indices add up and `x` is never written.
 */
import type { WritableTypedArray } from "../Buffer.js";
import { checkCount, checkDType, checkTensor } from "../check.js";
import { allocate, coerce, promoteTypes, type DType } from "../DType.js";
import { fail, formatShape } from "../errors.js";
import { showValue } from "../internal.js";
import { normalizeAxis, shapesEqual, sizeOf, stridesOf, type Shape } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { broadcastStrides, viewOffsets } from "./strided.js";

/** Indices as an int32 tensor, or a plain array of integers (read as a 1-d tensor). */
export type Indices = Tensor | readonly number[];

/** Indices with their shape, before bounds checks. Arrays stay as given, so no value wraps to int32. */
interface IndexSource {
  readonly shape: Shape;
  readonly data: ArrayLike<number>;
}

const readIndices = (op: string, indices: Indices): IndexSource => {
  if (Array.isArray(indices)) {
    const arr = indices as readonly unknown[];
    const bad = arr.findIndex((i) => !(typeof i === "number" && Number.isSafeInteger(i)));
    if (bad >= 0) {
      return fail({
        _tag: "ValueError",
        op,
        arg: `indices[${bad}]`,
        detail: `indices must be integers, got ${showValue(arr[bad])}`,
        fix: "pass whole-number positions",
      });
    }
    return { shape: [arr.length], data: arr as readonly number[] };
  }
  const t = checkTensor(op, "indices", indices);
  if (t.dtype !== "int32") {
    return fail({
      _tag: "DTypeError",
      op,
      arg: "indices",
      detail: `indices must be an int32 tensor, got ${t.dtype}`,
      fix: 'convert them with astype(indices, "int32") (after rounding, if they are floats)',
    });
  }
  return t;
};

/**
 * Bounds-checks indices against an axis of `size` (`where` names it in messages) and maps
 * negative ones to `i + size`.
 */
const resolveIndices = (op: string, data: ArrayLike<number>, where: string, size: number): Int32Array => {
  const out = new Int32Array(data.length);
  for (let j = 0; j < data.length; j++) {
    const i = data[j]!;
    if (i < -size || i >= size) {
      return fail({
        _tag: "ValueError",
        op,
        arg: "indices",
        detail: `index ${i} (at flat position ${j} of indices) is out of range for ${where} of size ${size}`,
        fix: size === 0 ? "an axis of size 0 cannot be indexed" : `use indices in [${-size}, ${size - 1}]`,
      });
    }
    out[j] = i < 0 ? i + size : i;
  }
  return out;
};

/** The `outer × size × inner` layout of `take` along an axis (`axis` undefined = flattened). */
interface TakePlan {
  readonly axis: number;
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
  readonly idx: Int32Array;
  readonly outShape: Shape;
  readonly indexShape: Shape;
}

const planTake = (op: string, x: Tensor, indices: Indices, axis: number | undefined): TakePlan => {
  checkTensor(op, "x", x);
  const ind = readIndices(op, indices);
  const shape = axis === undefined ? [x.data.length] : x.shape;
  const a = axis === undefined ? 0 : normalizeAxis(op, "axis", axis, x.shape.length);
  const size = shape[a]!;
  const idx = resolveIndices(op, ind.data, axis === undefined ? "the flattened tensor" : `axis ${a}`, size);
  return {
    axis: a,
    outer: sizeOf(shape.slice(0, a)),
    size,
    inner: sizeOf(shape.slice(a + 1)),
    idx,
    outShape: [...shape.slice(0, a), ...ind.shape, ...shape.slice(a + 1)],
    indexShape: ind.shape,
  };
};

/**
 * Picks entries along `axis` by integer index (NumPy's `take`); with `axis` omitted, from the
 * flattened tensor. The result has shape `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.
 * Indices are an int32 tensor or an array of integers; negative ones count from the end.
 * @throws TensorException for non-int32 indices or an index out of range (naming index, axis, size).
 * @example take(tensor([[1, 2], [3, 4]]), [1, -1], 1).data // Float32Array [2, 2, 4, 4]
 */
export const take = (x: Tensor, indices: Indices, axis?: number): Tensor => {
  const { outer, size, inner, idx, outShape } = planTake("take", x, indices, axis);
  const m = idx.length;
  const out = allocate(x.dtype, outer * m * inner);
  const src = x.data;
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const base = (o * size + idx[j]!) * inner;
      for (let k = 0; k < inner; k++) out[pos++] = src[base + k]!;
    }
  }
  return fromBuffer(x.dtype, outShape, out);
};

/** A fresh copy of `x`'s data in `dtype`, to accumulate into. */
const copyAs = (x: Tensor, dtype: DType): WritableTypedArray => {
  const out = allocate(dtype, x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]!;
  return out;
};

/** `out[p] += v`, where adding to a bool means "or" (as NumPy's `add` on bools). */
const accumulate = (dtype: DType): ((out: WritableTypedArray, p: number, v: number) => void) =>
  dtype === "bool"
    ? (out, p, v) => {
        out[p] = coerce("bool", out[p]! + v);
      }
    : (out, p, v) => {
        out[p] = out[p]! + v;
      };

const checkValues = (op: string, values: Tensor, expected: Shape, x: Tensor, indexShape: Shape): void => {
  checkTensor(op, "values", values);
  if (!shapesEqual(values.shape, expected)) {
    fail({
      _tag: "ShapeError",
      op,
      arg: "values",
      shapes: [x.shape, indexShape, values.shape],
      detail:
        `values has shape ${formatShape(values.shape)} ` +
        `but the indexed positions form shape ${formatShape(expected)}`,
      fix: `pass values of shape ${formatShape(expected)} (the shape the matching read would return)`,
    });
  }
};

/**
 * `x` plus `values` scatter-added at the positions `take(x, indices, axis)` reads (NumPy's
 * `np.add.at` along an axis): the adjoint of `take`. Repeated indices accumulate. `values` must
 * have `take`'s output shape; the result has `x`'s shape and the promoted dtype. `x` is copied,
 * never written.
 * @example addAt(zeros([3]), [0, 0, 2], tensor([1, 2, 5])).data // Float32Array [3, 0, 5]
 */
export const addAt = (x: Tensor, indices: Indices, values: Tensor, axis?: number): Tensor => {
  const { outer, size, inner, idx, outShape, indexShape } = planTake("addAt", x, indices, axis);
  checkValues("addAt", values, outShape, x, indexShape);
  const dtype = promoteTypes(x.dtype, values.dtype);
  const out = copyAs(x, dtype);
  const add = accumulate(dtype);
  const v = values.data;
  const m = idx.length;
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const base = (o * size + idx[j]!) * inner;
      for (let k = 0; k < inner; k++) add(out, base + k, v[pos++]!);
    }
  }
  return fromBuffer(dtype, x.shape, out);
};

/** Where each element of `gather`'s output reads: a source offset (minus the axis term) and an index. */
interface GatherPlan {
  readonly outShape: Shape;
  readonly base: Int32Array;
  readonly which: Int32Array;
  readonly idx: Int32Array;
  readonly axisStride: number;
  readonly indexShape: Shape;
}

const planGather = (op: string, x: Tensor, indices: Indices, axis: number): GatherPlan => {
  checkTensor(op, "x", x);
  const ind = readIndices(op, indices);
  const rank = x.shape.length;
  const a = normalizeAxis(op, "axis", axis, rank);
  // take_along_axis broadcasts the index grid against x on every axis except `axis`.
  const outShape = ind.shape.map((d, i) => (i === a ? d : x.shape[i] === 1 ? d : d === 1 ? x.shape[i]! : d));
  if (ind.shape.length !== rank || outShape.some((d, i) => i !== a && d !== x.shape[i] && x.shape[i] !== 1)) {
    return fail({
      _tag: "ShapeError",
      op,
      arg: "indices",
      shapes: [x.shape, ind.shape],
      detail:
        ind.shape.length !== rank
          ? `indices has rank ${ind.shape.length} but x has rank ${rank}; they must match`
          : `indices ${formatShape(ind.shape)} does not broadcast against x ${formatShape(x.shape)} off axis ${a}`,
      fix: "give indices x's rank (expandDims it), with each axis other than `axis` equal to x's or 1",
    });
  }
  const strides = stridesOf(x.shape);
  // Size-1 axes of x are broadcast (stride 0); the indexed axis contributes idx * axisStride instead.
  const xStrides = x.shape.map((d, i) => (i === a || d === 1 ? 0 : strides[i]!));
  return {
    outShape,
    base: viewOffsets(outShape, xStrides, 0),
    which: viewOffsets(outShape, broadcastStrides(ind.shape, outShape), 0),
    idx: resolveIndices(op, ind.data, `axis ${a}`, x.shape[a]!),
    axisStride: strides[a]!,
    indexShape: ind.shape,
  };
};

/**
 * Picks one entry along `axis` for every index (NumPy's `take_along_axis`): `indices` has `x`'s
 * rank, `out[..., j, ...] = x[..., indices[..., j, ...], ...]`, and the other axes broadcast
 * between `x` and `indices`. Negative indices count from the end.
 * @throws TensorException for non-int32 indices, a rank mismatch, or an index out of range.
 * @example gather(tensor([[1, 2], [3, 4]]), tensor([[1], [0]], "int32"), 1).data // Float32Array [2, 3]
 */
export const gather = (x: Tensor, indices: Indices, axis: number): Tensor => {
  const { outShape, base, which, idx, axisStride } = planGather("gather", x, indices, axis);
  const out = allocate(x.dtype, base.length);
  const src = x.data;
  for (let i = 0; i < base.length; i++) out[i] = src[base[i]! + idx[which[i]!]! * axisStride]!;
  return fromBuffer(x.dtype, outShape, out);
};

/**
 * `x` plus `values` scatter-added at the positions `gather(x, indices, axis)` reads (NumPy's
 * `put_along_axis` with addition): the adjoint of `gather`. Repeated positions accumulate, and
 * positions read through a broadcast size-1 axis of `x` sum. `values` must have `gather`'s output
 * shape; the result has `x`'s shape and the promoted dtype. `x` is copied, never written.
 * @example addAlongAxis(zeros([1, 3]), tensor([[2, 2]], "int32"), tensor([[1, 4]]), 1).data // Float32Array [0, 0, 5]
 */
export const addAlongAxis = (x: Tensor, indices: Indices, values: Tensor, axis: number): Tensor => {
  const { outShape, base, which, idx, axisStride, indexShape } = planGather("addAlongAxis", x, indices, axis);
  checkValues("addAlongAxis", values, outShape, x, indexShape);
  const dtype = promoteTypes(x.dtype, values.dtype);
  const out = copyAs(x, dtype);
  const add = accumulate(dtype);
  const v = values.data;
  for (let i = 0; i < base.length; i++) add(out, base[i]! + idx[which[i]!]! * axisStride, v[i]!);
  return fromBuffer(dtype, x.shape, out);
};

/**
 * One-hot encoding: a tensor of shape `indices.shape + [depth]` with 1 at each index and 0
 * elsewhere. Indices must lie in `[0, depth)` (negative indices are an error here, not "from the end").
 * @throws TensorException for a negative or non-integer depth, non-int32 indices, or an index outside `[0, depth)`.
 * @example oneHot([2, 0], 3).data // Float32Array [0, 0, 1, 1, 0, 0]
 */
export const oneHot = (indices: Indices, depth: number, dtype: DType = "float32"): Tensor => {
  if (!Number.isSafeInteger(depth) || depth < 0) {
    return fail({
      _tag: "ValueError",
      op: "oneHot",
      arg: "depth",
      detail: `depth must be a non-negative integer, got ${depth}`,
      fix: "pass the number of classes, e.g. 10",
    });
  }
  const dt = checkDType("oneHot", "dtype", dtype);
  const ind = readIndices("oneHot", indices);
  const out = allocate(dt, checkCount("oneHot", "depth", ind.data.length * depth));
  for (let j = 0; j < ind.data.length; j++) {
    const i = ind.data[j]!;
    if (i < 0 || i >= depth) {
      return fail({
        _tag: "ValueError",
        op: "oneHot",
        arg: "indices",
        detail: `index ${i} (at flat position ${j} of indices) is out of range for depth ${depth}`,
        fix: depth === 0 ? "depth 0 admits no index; pass the number of classes" : `use indices in [0, ${depth - 1}]`,
      });
    }
    out[j * depth + i] = 1;
  }
  return fromBuffer(dt, [...ind.shape, depth], out);
};
