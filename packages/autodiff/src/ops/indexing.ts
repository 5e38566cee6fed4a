/**
 * @file Integer indexing on values: take, gather, their scatter-add transposes, oneHot.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import { graphFail } from "../errors.js";
import * as I from "../primitives/indexing.js";
import { equal } from "./elementwise.js";
import { astype, broadcastTo, expectValue } from "./lift.js";
import { reshape, expandDims } from "./shape.js";

const asIndices = (op: string, indices: Value | readonly number[]): Value => {
  if (Array.isArray(indices) && !indices.every((i) => Number.isSafeInteger(i) && i >= -2147483648 && i <= 2147483647)) {
    // fromData would truncate 1.5 to 1 and wrap 2^40 to 0: say so instead.
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "indices",
      detail: "an index array must hold int32 integers",
      fix: "pass whole-number positions",
    });
  }
  const idx = Array.isArray(indices)
    ? T.fromDataOrThrow(indices as readonly number[], [indices.length], "int32")
    : expectValue(op, "indices", indices);
  if (idx.dtype !== "int32") {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "indices",
      detail: `indices must be int32, got ${idx.dtype}`,
      fix: "convert with astype(indices, 'int32') (after rounding, if they are computed as floats)",
    });
  }
  return idx;
};

/**
 * np.take: picks entries along `axis` (the flattened tensor without one); negative indices count
 * from the end. The gradient scatters back with addAt.
 * @example take(tensor([10, 20, 30]), [2, 0]) // [30, 10]
 */
export const take = (x: Value, indices: Value | readonly number[], axis?: number): Value => {
  const v = expectValue("take", "x", x);
  const idx = asIndices("take", indices);
  const src = axis === undefined ? reshape(v, [T.sizeOf(v.shape)]) : v;
  const a = axis === undefined ? 0 : T.normalizeAxis("take", "axis", axis, v.shape.length);
  return bind(I.take, [src, idx], { axis: a })[0]!;
};

/**
 * x plus `values` scattered at the positions `take(·, indices, axis)` reads (repeats accumulate);
 * without `axis`, positions in the flattened x, as for take. The result keeps x's dtype.
 * @example addAt(zeros([3]), [0, 0], tensor([1, 2]), 0) // [3, 0, 0]
 */
export const addAt = (x: Value, indices: Value | readonly number[], values: Value, axis?: number): Value => {
  const v = expectValue("addAt", "x", x);
  const idx = asIndices("addAt", indices);
  const vals = astype(expectValue("addAt", "values", values), v.dtype);
  // Without an axis, the positions are those of the flattened tensor, as for take.
  if (axis === undefined)
    return reshape(bind(I.addAt, [reshape(v, [T.sizeOf(v.shape)]), idx, vals], { axis: 0 })[0]!, v.shape);
  const a = T.normalizeAxis("addAt", "axis", axis, v.shape.length);
  return bind(I.addAt, [v, idx, vals], { axis: a })[0]!;
};

/**
 * np.take_along_axis: `indices` has x's rank; other axes broadcast.
 * @example gather(tensor([[1, 2], [3, 4]]), tensor([[1], [0]], "int32"), 1) // [[2], [3]]
 */
export const gather = (x: Value, indices: Value, axis: number): Value => {
  const v = expectValue("gather", "x", x);
  const idx = asIndices("gather", indices);
  const a = T.normalizeAxis("gather", "axis", axis, v.shape.length);
  if (idx.shape.length !== v.shape.length) {
    T.fail({
      _tag: "ShapeError",
      op: "gather",
      arg: "indices",
      shapes: [v.shape, idx.shape],
      detail: `indices must have the rank of x (${v.shape.length}), got rank ${idx.shape.length}`,
      fix: "expandDims the indices so that their rank matches",
    });
  }
  const outer = T.broadcastShapes(
    "gather",
    v.shape.map((d, i) => (i === a ? 1 : d)),
    idx.shape.map((d, i) => (i === a ? 1 : d)),
  );
  const xb = broadcastTo(
    v,
    outer.map((d, i) => (i === a ? v.shape[a]! : d)),
  );
  const ib = broadcastTo(
    idx,
    outer.map((d, i) => (i === a ? idx.shape[a]! : d)),
  );
  return bind(I.gather, [xb, ib], { axis: a })[0]!;
};

/**
 * x plus `values` added along `axis` at `indices` (the transpose of gather; repeats accumulate).
 * @example addAlongAxis(zeros([1, 2]), tensor([[1, 1]], "int32"), tensor([[1, 2]]), 1) // [[0, 3]]
 */
export const addAlongAxis = (x: Value, indices: Value, values: Value, axis: number): Value => {
  const v = expectValue("addAlongAxis", "x", x);
  const a = T.normalizeAxis("addAlongAxis", "axis", axis, v.shape.length);
  return bind(
    I.addAlongAxis,
    [v, asIndices("addAlongAxis", indices), astype(expectValue("addAlongAxis", "values", values), v.dtype)],
    { axis: a },
  )[0]!;
};

/**
 * One-hot rows: out shape indices.shape + [depth]; an index outside [0, depth) gives a zero row
 * under tracing (the eager tensor kernel rejects it).
 * @example oneHot(tensor([1, 0], "int32"), 2) // [[0, 1], [1, 0]]
 */
export const oneHot = (indices: Value, depth: number, dtype: T.DType = "float32"): Value => {
  const idx = asIndices("oneHot", indices);
  if (!Number.isSafeInteger(depth) || depth < 0 || T.sizeOf(idx.shape) * depth > 2147483647) {
    graphFail({
      _tag: "InvalidArgument",
      op: "oneHot",
      arg: "depth",
      detail: "depth must be a non-negative integer (and the result at most 2^31 − 1 elements)",
      fix: "pass the number of classes, e.g. 10",
    });
  }
  if (!T.isDType(dtype))
    graphFail({
      _tag: "InvalidArgument",
      op: "oneHot",
      arg: "dtype",
      detail: "unknown dtype",
      fix: 'use one of "float32", "float64", "int32", "bool"',
    });
  return astype(equal(expandDims(idx, -1), T.arange(depth)), dtype);
};
