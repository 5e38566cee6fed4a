/**
 * @file Movement ops: reshape, transpose/permute, expandDims, squeeze, broadcastTo and flip.
 *
 * Ops that only relabel the dimensions of a row-major buffer (`reshape`, `expandDims`, `squeeze`)
 * share the input's buffer: tensors are never written, so sharing is safe and costs nothing. Ops
 * that reorder elements (`transpose`, `broadcastTo`, `flip`) describe the result as a strided view
 * of the input and materialise it with `gatherView`, the one index walker of the package.
 */
import { checkTensor } from "../check.js";
import { fail, formatShape } from "../errors.js";
import { normalizeAxes, normalizeAxis, shapesEqual, sizeOf, stridesOf, validateShape, type Shape } from "../Shape.js";
import { showValue } from "../internal.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { broadcastStrides, gatherView } from "./strided.js";

/** `Array.isArray` that keeps a readonly array's element type (the built-in narrows it to `any[]`). */
const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);

/**
 * The same elements read in row-major order under a new shape; at most one dimension may be `-1`,
 * meaning "whatever makes the sizes match". Shares `x`'s buffer.
 * @throws TensorException when the sizes differ, when `-1` appears twice, or when `-1` is ambiguous
 * (the other dimensions multiply to 0).
 * @example reshape(arange(6), [2, -1]).shape // [2, 3]
 */
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => {
  checkTensor("reshape", "x", x);
  const bad = !isList(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= -1);
  const unknowns = bad ? 0 : shape.filter((d) => d === -1).length;
  if (bad || unknowns > 1) {
    return fail({
      _tag: "ValueError",
      op: "reshape",
      arg: "shape",
      detail: `shape must be non-negative integers with at most one -1, got ${showValue(shape)}`,
      fix: "pass dimensions like [2, 3], or [2, -1] to infer one of them",
    });
  }
  const size = x.data.length;
  let target: readonly number[] = shape;
  if (unknowns === 1) {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    // With a zero among the known dimensions any value of -1 fits, so NumPy refuses to guess.
    if (known === 0 || size % known !== 0) {
      return fail({
        _tag: "ShapeError",
        op: "reshape",
        arg: "shape",
        shapes: [x.shape, shape],
        detail:
          known === 0
            ? "cannot infer -1 when another dimension is 0: any size would fit"
            : `cannot infer -1: ${size} elements do not split into parts of ${known}`,
        fix: "choose dimensions whose product divides the element count, or write every dimension",
      });
    }
    target = shape.map((d) => (d === -1 ? size / known : d));
  }
  const sh = validateShape("reshape", "shape", target);
  if (sizeOf(sh) !== size) {
    return fail({
      _tag: "ShapeError",
      op: "reshape",
      arg: "shape",
      shapes: [x.shape, sh],
      detail: `cannot reshape ${size} elements into shape ${formatShape(sh)} (${sizeOf(sh)} elements)`,
      fix: "make the new dimensions multiply to the same element count, or use -1 for one of them",
    });
  }
  return fromBuffer(x.dtype, sh, x.data);
};

/** Validates `perm` as a permutation of the axes of a rank-`rank` tensor (negative axes allowed). */
const checkPerm = (op: string, perm: readonly number[], shape: Shape): number[] => {
  if (!isList(perm) || perm.length !== shape.length) {
    return fail({
      _tag: "ValueError",
      op,
      arg: "perm",
      detail: `perm ${showValue(perm)} must list each of the ${shape.length} axes of shape ${formatShape(shape)} once`,
      fix: `pass a permutation of ${formatShape([...shape.keys()])}`,
    });
  }
  normalizeAxes(op, "perm", perm, shape.length); // rejects out-of-range and repeated axes
  return perm.map((a) => normalizeAxis(op, "perm", a, shape.length));
};

const permuteImpl = (x: Tensor, axes: readonly number[]): Tensor => {
  if (axes.every((a, i) => a === i)) return x;
  const inStrides = stridesOf(x.shape);
  const shape = axes.map((a) => x.shape[a]!);
  const strides = axes.map((a) => inStrides[a]!);
  return fromBuffer(x.dtype, shape, gatherView(x.dtype, x.data, shape, strides, 0));
};

/**
 * Reorders the axes: result axis `i` is input axis `perm[i]`. Without `perm`, reverses the axes
 * (the matrix transpose for rank 2), as NumPy does.
 * @example transpose(zeros([2, 3, 4])).shape // [4, 3, 2]
 */
export const transpose = (x: Tensor, perm?: readonly number[]): Tensor => {
  const { shape } = checkTensor("transpose", "x", x);
  return permuteImpl(
    x,
    perm === undefined ? shape.map((_, i) => shape.length - 1 - i) : checkPerm("transpose", perm, shape),
  );
};

/**
 * Reorders the axes by an explicit permutation: result axis `i` is input axis `perm[i]`.
 * @example permute(zeros([2, 3, 4]), [1, 0, 2]).shape // [3, 2, 4]
 */
export const permute = (x: Tensor, perm: readonly number[]): Tensor =>
  permuteImpl(checkTensor("permute", "x", x), checkPerm("permute", perm, x.shape));

/**
 * Inserts a size-1 axis so that it becomes axis `axis` of the result (`axis` in
 * `[-(rank + 1), rank]`; negative counts from the end of the result). Shares `x`'s buffer.
 * @example expandDims(zeros([2, 3]), -1).shape // [2, 3, 1]
 */
export const expandDims = (x: Tensor, axis: number): Tensor => {
  const a = normalizeAxis("expandDims", "axis", axis, checkTensor("expandDims", "x", x).shape.length + 1);
  return fromBuffer(x.dtype, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)], x.data);
};

/**
 * Removes size-1 axes: every one of them, or only those named by `axis`. Shares `x`'s buffer.
 * @throws TensorException when a named axis does not have size 1.
 * @example squeeze(zeros([1, 3, 1]), 0).shape // [3, 1]
 */
export const squeeze = (x: Tensor, axis?: number | readonly number[]): Tensor => {
  const rank = checkTensor("squeeze", "x", x).shape.length;
  let drop: readonly number[];
  if (axis === undefined) drop = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else {
    drop = normalizeAxes("squeeze", "axis", typeof axis === "number" ? [axis] : axis, rank);
    const wrong = drop.find((a) => x.shape[a] !== 1);
    if (wrong !== undefined) {
      return fail({
        _tag: "ShapeError",
        op: "squeeze",
        arg: "axis",
        shapes: [x.shape],
        detail: `axis ${wrong} has size ${x.shape[wrong]}, and only size-1 axes can be squeezed`,
        fix: "name only axes of size 1, or omit `axis` to drop every size-1 axis",
      });
    }
  }
  return fromBuffer(
    x.dtype,
    x.shape.filter((_, i) => !drop.includes(i)),
    x.data,
  );
};

/**
 * Repeats `x` along new leading axes and along its size-1 axes to reach `shape` (NumPy's
 * `broadcast_to`): shapes align on the right and each axis of `x` must equal the target or be 1.
 * @throws TensorException naming both shapes when `x` cannot be broadcast to `shape`.
 * @example broadcastTo(tensor([1, 2]), [2, 2]).data // Float32Array [1, 2, 1, 2]
 */
export const broadcastTo = (x: Tensor, shape: Shape): Tensor => {
  checkTensor("broadcastTo", "x", x);
  const target = validateShape("broadcastTo", "shape", shape);
  const offset = target.length - x.shape.length;
  const badAxis = x.shape.findIndex((d, i) => d !== 1 && d !== target[offset + i]);
  if (offset < 0 || badAxis >= 0) {
    return fail({
      _tag: "ShapeError",
      op: "broadcastTo",
      arg: "shape",
      shapes: [x.shape, target],
      detail:
        offset < 0
          ? `cannot broadcast a rank-${x.shape.length} tensor to the lower rank ${target.length}`
          : `cannot broadcast shape ${formatShape(x.shape)} to ${formatShape(target)}: axis ${badAxis} has size ${
              x.shape[badAxis]
            }, which is neither 1 nor ${target[offset + badAxis]}`,
      fix: "each axis of x (aligned on the right) must equal the target's or be 1; reshape or expandDims x first",
    });
  }
  if (shapesEqual(x.shape, target)) return x;
  return fromBuffer(x.dtype, target, gatherView(x.dtype, x.data, target, broadcastStrides(x.shape, target), 0));
};

/**
 * Reverses the order of elements along `axis` (one axis or several; all axes when omitted).
 * @example flip(tensor([[1, 2], [3, 4]]), 1).data // Float32Array [2, 1, 4, 3]
 */
export const flip = (x: Tensor, axis?: number | readonly number[]): Tensor => {
  const rank = checkTensor("flip", "x", x).shape.length;
  const axes =
    axis === undefined
      ? [...x.shape.keys()]
      : normalizeAxes("flip", "axis", typeof axis === "number" ? [axis] : axis, rank);
  if (axes.every((a) => x.shape[a]! <= 1)) return x;
  const strides = stridesOf(x.shape);
  let offset = 0;
  for (const a of axes) {
    // Start from the last element of the axis and walk backwards.
    offset += (x.shape[a]! - 1) * strides[a]!;
    strides[a] = -strides[a]!;
  }
  return fromBuffer(x.dtype, x.shape, gatherView(x.dtype, x.data, x.shape, strides, offset));
};
