/**
 * @file Shapes: sizes, strides, axis normalisation and NumPy broadcasting. Pure, no data.
 */
import { fail } from "./errors.js";
import { MAX_ELEMENTS, showValue } from "./internal.js";

/** The dimensions of a tensor, outermost first; `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * Number of elements of a shape (1 for a scalar, 0 if any axis is 0).
 * @example sizeOf([2, 3]) // 6
 */
export const sizeOf = (shape: Shape): number => {
  if (!Array.isArray(shape)) return badShape("sizeOf", "shape", shape);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!(Number.isSafeInteger(d) && (d as number) >= 0)) return badShape("sizeOf", "shape", shape);
    n *= d as number;
  }
  return n;
};

/**
 * Row-major (C-order) strides in elements.
 * @example stridesOf([2, 3, 4]) // [12, 4, 1]
 */
export const stridesOf = (shape: Shape): number[] => {
  sizeOf(shape); // validates
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
};

/**
 * True when two shapes have the same rank and dimensions.
 * @example shapesEqual([2, 3], [2, 3]) // true
 */
export const shapesEqual = (a: Shape, b: Shape): boolean => {
  if (a === b) return Array.isArray(a);
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  // An indexed loop, not `every`: this runs on every eager binary op.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

const isShape = (shape: unknown): boolean => {
  if (!Array.isArray(shape)) return false;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!(Number.isSafeInteger(d) && (d as number) >= 0)) return false;
  }
  return true;
};

const badShape = (op: string, arg: string, shape: unknown): never =>
  fail({
    _tag: "ValueError",
    op,
    arg,
    detail: `shape must be an array of non-negative integers, got ${showValue(shape)}`,
    fix: "pass dimensions like [2, 3] (use [] for a scalar)",
  });

/**
 * Checks that `shape` is a list of non-negative integers whose product a tensor can hold (at most
 * 2^31 − 1 elements); throws a `ValueError` naming `op`/`arg`.
 * @example validateShape("zeros", "shape", [2, 3]) // returns [2, 3] frozen
 */
export const validateShape = (op: string, arg: string, shape: unknown): Shape => {
  if (!isShape(shape)) return badShape(op, arg, shape);
  const n = (shape as number[]).reduce((p, d) => p * d, 1);
  if (n > MAX_ELEMENTS) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `shape ${showValue(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} a tensor can hold`,
      fix: "use smaller dimensions",
    });
  }
  return Object.freeze([...(shape as number[])]);
};

/**
 * Maps a possibly negative axis into `[0, rank)`, throwing an `AxisError` naming `op` and `arg`.
 * @example normalizeAxis("sum", "axis", -1, 3) // 2
 */
export const normalizeAxis = (op: string, arg: string, axis: number, rank: number): number => {
  if (!(Number.isSafeInteger(rank) && rank >= 0)) {
    return fail({
      _tag: "ValueError",
      op: "normalizeAxis",
      arg: "rank",
      detail: `rank must be a non-negative integer, got ${showValue(rank)}`,
      fix: "pass the tensor's rank (shape.length)",
    });
  }
  if (typeof axis !== "number") {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `an axis must be an integer, got ${showValue(axis)}`,
      fix: `use an integer in [${-rank}, ${rank - 1}]`,
    });
  }
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    return fail({ _tag: "AxisError", op, arg, axis, rank });
  }
  return axis < 0 ? axis + rank : axis;
};

/**
 * Normalises a list of axes and rejects duplicates (`[0, -2]` on rank 2 names axis 0 twice).
 * @example normalizeAxes("sum", "axis", [-1, 0], 3) // [0, 2]
 */
export const normalizeAxes = (op: string, arg: string, axes: readonly number[], rank: number): number[] => {
  if (!Array.isArray(axes)) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `expected an array of axes, got ${showValue(axes)}`,
      fix: "pass axes like [0, -1]",
    });
  }
  const out = (axes as readonly number[]).map((a) => normalizeAxis(op, arg, a, rank));
  const unique = new Set(out);
  if (unique.size !== out.length) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `axes ${showValue(axes)} name the same axis twice for a rank-${rank} tensor`,
      fix: "list each axis once",
    });
  }
  return out.sort((x, y) => x - y);
};

/**
 * The NumPy broadcast of several shapes: align on the right, and each axis must be equal or 1.
 * @throws TensorException (`ShapeError`) naming `op` when two axes differ and neither is 1.
 * @example broadcastShapes("add", [2, 1, 3], [4, 3]) // [2, 4, 3]
 */
export const broadcastShapes = (op: string, ...shapes: readonly Shape[]): Shape => {
  for (const s of shapes) if (!isShape(s)) badShape(op, "shapes", s);
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      const cur = out[j]!;
      if (cur === 1) out[j] = d;
      else if (d !== 1 && d !== cur) {
        return fail({
          _tag: "ShapeError",
          op,
          arg: "operands",
          shapes,
          detail: `shapes cannot be broadcast together: axis ${j - rank} has sizes ${cur} and ${d}`,
          fix: "make each aligned axis equal or 1 (reshape or expandDims one operand)",
        });
      }
    }
  }
  return Object.freeze(out);
};
