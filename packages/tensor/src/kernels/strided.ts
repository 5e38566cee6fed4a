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
import { sizeOf, type Shape } from "../Shape.js";

/**
 * The source offsets of every element of the view `(shape, strides, offset)`, in row-major order
 * of `shape`. Walks an odometer over the multi-index, so the cost is one add per element.
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
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      pos += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      pos -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
};

/**
 * Copies the view `(shape, strides, offset)` of `data` into a fresh contiguous buffer.
 * @example gatherView("float32", Float32Array.of(1, 2, 3), [3], [-1], 2) // Float32Array [3, 2, 1]
 */
export const gatherView = (
  dtype: DType,
  data: ReadonlyTypedArray,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): ReturnType<typeof allocate> => {
  const offsets = viewOffsets(shape, strides, offset);
  const out = allocate(dtype, offsets.length);
  for (let i = 0; i < offsets.length; i++) out[i] = data[offsets[i]!]!;
  return out;
};

/**
 * Strides that read a tensor of `inShape` as if it had `outShape` (NumPy broadcasting): aligned
 * on the right, with stride 0 wherever `inShape` has size 1 or is missing. The caller has already
 * checked that the shapes broadcast.
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
