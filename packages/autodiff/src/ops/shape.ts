/**
 * @file Shape ops on values: reshape, transpose, expandDims/squeeze (as reshapes), flip, pad,
 * concat/stack/split. Slicing lives in slice.ts and is re-exported here.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import * as S from "../primitives/shape.js";
import { astype, expectValue } from "./lift.js";
import { expectArray, isArray } from "../check.js";
import { slice, type SliceSpec } from "./slice.js";

export { slice, sliceWindow, unslice, type SliceSpec } from "./slice.js";

const one = (prim: Parameters<typeof bind>[0], x: Value, params: unknown): Value => bind(prim, [x], params)[0]!;

/**
 * Reshape to `shape` (one −1 allowed, inferred).
 * @example reshape(arange(6), [2, -1]).shape // [2, 3]
 */
export const reshape = (x: Value, shape: readonly number[]): Value => {
  const v = expectValue("reshape", "x", x);
  expectArray("reshape", "shape", shape);
  const size = T.sizeOf(v.shape);
  const holes = shape.filter((d) => d === -1).length;
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const bad =
    holes > 1 ||
    shape.some((d) => !Number.isSafeInteger(d) || d < -1) ||
    (holes === 1 ? known === 0 || size % known !== 0 : known !== size);
  if (bad) {
    T.fail({
      _tag: "ShapeError",
      op: "reshape",
      arg: "shape",
      shapes: [v.shape, shape],
      detail: `cannot reshape ${size} elements into ${T.formatShape(shape)}`,
      fix: "keep the element count equal (use at most one -1 for an inferred axis)",
    });
  }
  const resolved = Object.freeze(shape.map((d) => (d === -1 ? size / known : d)));
  return T.shapesEqual(resolved, v.shape) ? v : one(S.reshape, v, { shape: resolved });
};

/**
 * Permutes axes (reverses them by default).
 * @example transpose(zeros([2, 3])).shape // [3, 2]
 */
export const transpose = (x: Value, perm?: readonly number[]): Value => {
  const v = expectValue("transpose", "x", x);
  const rank = v.shape.length;
  const p =
    perm === undefined
      ? v.shape.map((_, i) => rank - 1 - i)
      : expectArray("transpose", "perm", perm).map((a) => T.normalizeAxis("transpose", "perm", a, rank));
  if (p.length !== rank || new Set(p).size !== rank) {
    T.fail({
      _tag: "ValueError",
      op: "transpose",
      arg: "perm",
      detail: `${T.formatShape(
        perm ?? [],
      )} is not a permutation of the ${rank} axes of a tensor of shape ${T.formatShape(v.shape)}`,
      fix: `list each axis 0..${rank - 1} exactly once`,
    });
  }
  return p.every((a, i) => a === i) ? v : one(S.transpose, v, { perm: Object.freeze(p) });
};

/**
 * `transpose` with a required permutation.
 * @example permute(zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
export const permute = (x: Value, perm: readonly number[]): Value => transpose(x, expectArray("permute", "perm", perm));

/**
 * Inserts a size-1 axis at `axis` (in [−rank−1, rank]).
 * @example expandDims(zeros([3]), 0).shape // [1, 3]
 */
export const expandDims = (x: Value, axis: number): Value => {
  const v = expectValue("expandDims", "x", x);
  const a = T.normalizeAxis("expandDims", "axis", axis, v.shape.length + 1);
  return reshape(v, [...v.shape.slice(0, a), 1, ...v.shape.slice(a)]);
};

/**
 * Removes size-1 axes (all of them by default; naming an axis that is not 1 is an error).
 * @example squeeze(zeros([1, 3, 1])).shape // [3]
 */
export const squeeze = (x: Value, axis?: number | readonly number[]): Value => {
  const v = expectValue("squeeze", "x", x);
  const axes =
    axis === undefined
      ? v.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : T.normalizeAxes("squeeze", "axis", typeof axis === "number" ? [axis] : axis, v.shape.length);
  for (const a of axes) {
    if (v.shape[a] !== 1) {
      T.fail({
        _tag: "ShapeError",
        op: "squeeze",
        arg: "axis",
        shapes: [v.shape],
        detail: `axis ${a} has size ${v.shape[a]}, not 1`,
        fix: "squeeze only axes of size 1",
      });
    }
  }
  return reshape(
    v,
    v.shape.filter((_, i) => !axes.includes(i)),
  );
};

/**
 * Reverses element order along axes (all by default).
 * @example flip(tensor([1, 2, 3])) // [3, 2, 1]
 */
export const flip = (x: Value, axis?: number | readonly number[]): Value => {
  const v = expectValue("flip", "x", x);
  const axes =
    axis === undefined
      ? v.shape.map((_, i) => i)
      : T.normalizeAxes("flip", "axis", typeof axis === "number" ? [axis] : axis, v.shape.length);
  return axes.length === 0 ? v : one(S.flip, v, { axes: Object.freeze(axes) });
};

/**
 * Constant padding: one [before, after] pair per axis.
 * @example pad(tensor([1]), [[1, 2]]) // [0, 1, 0, 0]
 */
export const pad = (x: Value, widths: ReadonlyArray<readonly [number, number]>, value = 0): Value => {
  const v = expectValue("pad", "x", x);
  if (typeof value !== "number")
    T.fail({
      _tag: "ValueError",
      op: "pad",
      arg: "value",
      detail: `value must be a number, got ${typeof value}`,
      fix: "pass the fill value as a number",
    });
  const ok =
    isArray<readonly [number, number]>(widths) &&
    widths.length === v.shape.length &&
    widths.every((w) => Array.isArray(w) && w.length === 2 && w.every((n) => Number.isSafeInteger(n) && n >= 0)) &&
    v.shape.reduce((p, d, i) => p * (d + widths[i]![0] + widths[i]![1]), 1) <= 2147483647;
  if (!ok) {
    T.fail({
      _tag: "ShapeError",
      op: "pad",
      arg: "widths",
      shapes: [v.shape],
      detail:
        `widths must be one [before, after] pair of non-negative integers per axis ` +
        `(and the result at most 2^31 − 1 elements)`,
      fix: `pass ${v.shape.length} pairs`,
    });
  }
  return widths.every(([a, b]) => a === 0 && b === 0)
    ? v
    : one(S.pad, v, { widths: Object.freeze(widths.map(([a, b]) => Object.freeze([a, b] as const))), value });
};

/**
 * Joins tensors along an existing axis (dtypes promote).
 * @example concat([tensor([1]), tensor([2, 3])]) // [1, 2, 3]
 */
export const concat = (xs: readonly Value[], axis = 0): Value => {
  if (expectArray("concat", "xs", xs).length === 0) {
    T.fail({
      _tag: "ValueError",
      op: "concat",
      arg: "xs",
      detail: "needs at least one tensor",
      fix: "pass a non-empty array",
    });
  }
  const vs = xs.map((x, i) => expectValue("concat", `xs[${i}]`, x));
  const first = vs[0]!;
  const a = T.normalizeAxis("concat", "axis", axis, first.shape.length);
  vs.forEach((v) => {
    if (v.shape.length !== first.shape.length || v.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      T.fail({
        _tag: "ShapeError",
        op: "concat",
        arg: "xs",
        shapes: vs.map((u) => u.shape),
        detail: `all shapes must match except along axis ${a}`,
        fix: "reshape or pad the inputs so that the other axes agree",
      });
    }
  });
  const dtype = vs.map((v) => v.dtype).reduce(T.promoteTypes);
  return vs.length === 1
    ? astype(first, dtype)
    : bind(
        S.concat,
        vs.map((v) => astype(v, dtype)),
        { axis: a },
      )[0]!;
};

/**
 * Stacks equal-shape tensors along a new axis.
 * @example stack([tensor([1, 2]), tensor([3, 4])]).shape // [2, 2]
 */
export const stack = (xs: readonly Value[], axis = 0): Value => {
  if (expectArray("stack", "xs", xs).length === 0) {
    T.fail({
      _tag: "ValueError",
      op: "stack",
      arg: "xs",
      detail: "needs at least one tensor",
      fix: "pass a non-empty array",
    });
  }
  const first = expectValue("stack", "xs[0]", xs[0]);
  xs.forEach((x, i) => {
    if (!T.shapesEqual(expectValue("stack", `xs[${i}]`, x).shape, first.shape)) {
      T.fail({
        _tag: "ShapeError",
        op: "stack",
        arg: "xs",
        shapes: xs.map((u) => u.shape),
        detail: "all shapes must be equal",
        fix: "stack tensors of one shape",
      });
    }
  });
  const a = T.normalizeAxis("stack", "axis", axis, first.shape.length + 1);
  return concat(
    xs.map((x) => expandDims(x, a)),
    a,
  );
};

/**
 * Splits along an axis (NumPy): a number gives that many equal parts, an array gives split points.
 * @example split(arange(6), 3).map((p) => p.shape) // [[2], [2], [2]]
 */
export const split = (x: Value, indicesOrSections: number | readonly number[], axis = 0): Value[] => {
  const v = expectValue("split", "x", x);
  const a = T.normalizeAxis("split", "axis", axis, v.shape.length);
  const dim = v.shape[a]!;
  let points: number[];
  if (typeof indicesOrSections === "number") {
    const n = indicesOrSections;
    if (!Number.isInteger(n) || n <= 0 || dim % n !== 0) {
      return T.fail({
        _tag: "ShapeError",
        op: "split",
        arg: "indicesOrSections",
        shapes: [v.shape],
        detail: `axis ${a} of size ${dim} cannot be split into ${n} equal sections`,
        fix: "pass a divisor of the axis size, or an array of split points",
      });
    }
    points = Array.from({ length: n - 1 }, (_, i) => ((i + 1) * dim) / n);
  } else {
    if (!isArray<number>(indicesOrSections) || !indicesOrSections.every((i) => Number.isSafeInteger(i))) {
      return T.fail({
        _tag: "ValueError",
        op: "split",
        arg: "indicesOrSections",
        detail: "expected a number of sections or an array of integer split points",
        fix: "pass e.g. 2 or [1, 3]",
      });
    }
    points = [...indicesOrSections];
  }
  const bounds = [0, ...points, dim];
  return bounds.slice(0, -1).map((lo, i) => {
    const spec: Array<SliceSpec | null> = v.shape.map(() => null);
    spec[a] = { start: lo, stop: bounds[i + 1]! };
    return slice(v, spec);
  });
};
