/**
 * @file Strided views, materialised: the one index walker behind broadcast, transpose, slice and flip.
 *
 * A view of a row-major buffer is `(shape, strides, offset)`: element `[i0, ..., ik]` lives at
 * `offset + Σ ij * strides[j]`. Broadcasting is a stride of 0, transposing permutes strides,
 * slicing scales them by the step and moves the offset, flipping negates them. Every movement
 * kernel builds such a view and calls `gatherView`, so the index arithmetic lives in one place.
 */
import type { ReadonlyTypedArray } from "../Buffer.js";
import { allocate, type DType } from "../DType.js";
import { fail } from "../errors.js";
import { MAX_ELEMENTS, showValue } from "../internal.js";
import { sizeOf, type Shape } from "../Shape.js";

const viewFail = (op: string, arg: string, detail: string, fix: string): never =>
  fail({ _tag: "ValueError", op, arg, detail, fix });

/**
 * Validates a view and returns the smallest and largest offset it reads (both `offset` when it is
 * empty), so callers can bounds-check it against a buffer.
 */
const viewRange = (op: string, shape: Shape, strides: readonly number[], offset: number): [number, number] => {
  const n = sizeOf(shape);
  if (!Array.isArray(strides) || strides.length !== shape.length || !strides.every((st) => Number.isSafeInteger(st))) {
    viewFail(
      op,
      "strides",
      `strides must be one integer per axis of the shape (${shape.length}), got ${showValue(strides)}`,
      "pass strides like [3, 1]",
    );
  }
  if (!Number.isSafeInteger(offset))
    viewFail(op, "offset", `offset must be an integer, got ${showValue(offset)}`, "pass an element offset such as 0");
  let lo = offset;
  let hi = offset;
  if (n > 0) {
    shape.forEach((d, i) => {
      const reach = strides[i]! * (d - 1);
      if (reach < 0) lo += reach;
      else hi += reach;
    });
  }
  // The offsets are int32: a view that reaches past that range would wrap silently.
  if (lo < -MAX_ELEMENTS - 1 || hi > MAX_ELEMENTS)
    viewFail(op, "strides", `the view reaches offsets [${lo}, ${hi}], beyond int32`, "use smaller strides or offset");
  return [lo, hi];
};

/**
 * One step of the odometer `index` over axes `0..last` of a strided view (the last of them moving
 * fastest): returns the position after it. Shared by the offset table and the row-wise gather.
 * @example advance([0, 2], [2, 3], [3, 1], 2, 1) // 3: from [0, 2] to [1, 0]
 */
const advance = (index: number[], shape: Shape, strides: readonly number[], pos: number, last: number): number => {
  for (let axis = last; axis >= 0; axis--) {
    index[axis]!++;
    pos += strides[axis]!;
    if (index[axis]! < shape[axis]!) return pos;
    pos -= strides[axis]! * shape[axis]!;
    index[axis] = 0;
  }
  return pos;
};

/**
 * The source offsets of every element of the view `(shape, strides, offset)`, in row-major order
 * of `shape`. Walks an odometer over the multi-index, so the cost is one add per element.
 * Unchecked: kernels build valid views; other callers get `viewOffsetsChecked` (the index's
 * `viewOffsets`).
 * @example viewOffsets([2, 2], [1, 2], 0) // Int32Array [0, 2, 1, 3]  (a transpose)
 */
export const viewOffsets = (shape: Shape, strides: readonly number[], offset: number): Int32Array => {
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let pos = offset;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    pos = advance(index, shape, strides, pos, rank - 1);
  }
  return out;
};

/**
 * Copies the view `(shape, strides, offset)` of `data` into a fresh contiguous buffer.
 * Unchecked, for the kernels; the index exports `gatherViewChecked` as `gatherView`.
 * @example gatherView("float32", Float32Array.of(1, 2, 3), [3], [-1], 2) // Float32Array [3, 2, 1]
 */
export const gatherView = (
  dtype: DType,
  data: ReadonlyTypedArray,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): ReturnType<typeof allocate> => {
  const n = sizeOf(shape);
  const out = allocate(dtype, n);
  if (n === 0) return out;
  // A broadcast scalar (every stride 0, as the optimizers' `x · lr` makes): one fill.
  if (strides.every((st) => st === 0)) {
    out.fill(data[offset]!);
    return out;
  }
  // Row by row along the last axis (a fill, a contiguous copy or a strided one), with an
  // odometer over the outer axes: no offset table, and the inner loop has no index bookkeeping.
  const rank = shape.length;
  const len = rank === 0 ? 1 : shape[rank - 1]!;
  const step = rank === 0 ? 0 : strides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let pos = offset;
  for (let k = 0; k < n; k += len) {
    if (step === 0) out.fill(data[pos]!, k, k + len);
    else if (step === 1) for (let j = 0; j < len; j++) out[k + j] = data[pos + j]!;
    else for (let j = 0; j < len; j++) out[k + j] = data[pos + j * step]!;
    pos = advance(index, shape, strides, pos, rank - 2);
  }
  return out;
};

/**
 * Strides that read a tensor of `inShape` as if it had `outShape` (NumPy broadcasting): aligned
 * on the right, with stride 0 wherever `inShape` has size 1 or is missing. The caller has already
 * checked that the shapes broadcast (the index exports `broadcastStridesChecked`, which checks).
 * @example broadcastStrides([3, 1], [2, 3, 4]) // [0, 1, 0]
 */
export const broadcastStrides = (inShape: Shape, outShape: Shape): number[] => {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const j = outShape.length - inShape.length + i;
    strides[j] = inShape[i] === 1 ? 0 : s;
    s *= inShape[i]!;
  }
  return strides;
};

/**
 * `viewOffsets` for callers outside the kernels, which pass views the kernels did not build: the
 * strides and offset are checked (one integer stride per axis, offsets within int32) first.
 * Exported from the package index as `viewOffsets`; the kernels call the unchecked one.
 * @example viewOffsetsChecked([2, 2], [1, 2], 0) // Int32Array [0, 2, 1, 3]
 */
export const viewOffsetsChecked = (shape: Shape, strides: readonly number[], offset: number): Int32Array => {
  viewRange("viewOffsets", shape, strides, offset);
  return viewOffsets(shape, strides, offset);
};

/**
 * `gatherView` for callers outside the kernels: the buffer must be a numeric typed array and
 * every offset of the view must lie inside it (an out-of-range read would store NaN or 0).
 * Exported from the package index as `gatherView`.
 * @example gatherViewChecked("float32", Float32Array.of(1, 2, 3), [3], [-1], 2) // Float32Array [3, 2, 1]
 */
export const gatherViewChecked = (
  dtype: DType,
  data: ReadonlyTypedArray,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): ReturnType<typeof allocate> => {
  if (
    !ArrayBuffer.isView(data) ||
    data instanceof DataView ||
    data instanceof BigInt64Array ||
    data instanceof BigUint64Array
  ) {
    viewFail(
      "gatherView",
      "data",
      `data must be a numeric typed array, got ${showValue(data)}`,
      "pass a tensor's data",
    );
  }
  const [lo, hi] = viewRange("gatherView", shape, strides, offset);
  if (sizeOf(shape) > 0 && (lo < 0 || hi >= data.length)) {
    viewFail(
      "gatherView",
      "offset, strides",
      `the view reads offsets [${lo}, ${hi}] of a buffer of length ${data.length}`,
      "keep every offset of the view inside the buffer",
    );
  }
  return gatherView(dtype, data, shape, strides, offset);
};

/**
 * `broadcastStrides` for callers outside the kernels: `inShape` must broadcast to exactly
 * `outShape`. Exported from the package index as `broadcastStrides`.
 * @example broadcastStridesChecked([3, 1], [2, 3, 4]) // [0, 1, 0]
 */
export const broadcastStridesChecked = (inShape: Shape, outShape: Shape): number[] => {
  sizeOf(inShape);
  sizeOf(outShape);
  // inShape must broadcast to exactly outShape: no longer, and each aligned axis equal or 1.
  const lead = outShape.length - inShape.length;
  let fits = lead >= 0;
  for (let i = 0; fits && i < inShape.length; i++) fits = inShape[i] === 1 || inShape[i] === outShape[lead + i];
  if (!fits)
    viewFail(
      "broadcastStrides",
      "inShape",
      `shape ${showValue(inShape)} does not broadcast to ${showValue(outShape)}`,
      "pass an input shape that broadcasts to the output shape",
    );
  return broadcastStrides(inShape, outShape);
};
