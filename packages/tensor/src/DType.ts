/**
 * @file Element types, buffer allocation, and the type-promotion rule.
 *
 * Promotion follows JAX's lattice restricted to our dtypes: `bool < int32 < float32 < float64`.
 * A binary op on two tensors of different dtypes computes in the larger one, so `int32 + float32`
 * is `float32` and `float32 + float64` is `float64`. Plain JavaScript numbers passed to an op are
 * "weakly typed" (as in JAX): they take the dtype of the tensor they meet and never widen it.
 * Transcendental functions (`exp`, `log`, `tanh`, ...) of `int32`/`bool` give `float32`.
 */
import type { WritableTypedArray } from "./Buffer.js";
import { fail } from "./errors.js";
import { describeValue, MAX_ELEMENTS } from "./internal.js";

/** The element types a tensor can hold. `bool` is stored as bytes 0/1. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** Every dtype, in promotion order (each promotes to the ones after it). */
export const dtypes: readonly DType[] = Object.freeze(["bool", "int32", "float32", "float64"]);

const rank: Readonly<Record<DType, number>> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Bytes per element of each dtype. */
export const byteSize: Readonly<Record<DType, number>> = { bool: 1, int32: 4, float32: 4, float64: 8 };

/**
 * True when `value` is one of the dtype names.
 * @example isDType("float32") // true
 */
export const isDType = (value: unknown): value is DType =>
  typeof value === "string" && Object.prototype.hasOwnProperty.call(rank, value);

const dtypeFail = (op: string, arg: string, value: unknown): never =>
  fail({
    _tag: "DTypeError",
    op,
    arg,
    detail: `unknown dtype ${describeValue(value)}`,
    fix: 'use one of "float32", "float64", "int32", "bool"',
  });

/**
 * True for `float32` and `float64`.
 * @example isFloating("int32") // false
 */
export const isFloating = (dtype: DType): boolean => dtype === "float32" || dtype === "float64";

/**
 * The dtype a binary op on `a` and `b` computes in: the larger of the two on the lattice
 * `bool < int32 < float32 < float64`.
 * @example promoteTypes("int32", "float32") // "float32"
 */
export const promoteTypes = (a: DType, b: DType): DType => {
  if (!isDType(a)) return dtypeFail("promoteTypes", "a", a);
  if (!isDType(b)) return dtypeFail("promoteTypes", "b", b);
  return rank[a] >= rank[b] ? a : b;
};

/**
 * The dtype of a transcendental function's result: floats stay, `int32` and `bool` become `float32`.
 * @example floatResultType("int32") // "float32"
 */
export const floatResultType = (dtype: DType): DType =>
  isFloating(dtype) ? dtype : isDType(dtype) ? "float32" : dtypeFail("floatResultType", "dtype", dtype);

/**
 * Allocates a zero-filled, writable buffer of `length` elements for `dtype`.
 * Kernels fill it and wrap it in a tensor; after that it is never written again.
 * @example allocate("float64", 3) // Float64Array [0, 0, 0]
 */
export const allocate = (dtype: DType, length: number): WritableTypedArray => {
  if (!(Number.isSafeInteger(length) && length >= 0 && length <= MAX_ELEMENTS)) {
    fail({
      _tag: "ValueError",
      op: "allocate",
      arg: "length",
      detail: `cannot allocate ${String(length)} elements`,
      fix: `pass a non-negative integer up to ${MAX_ELEMENTS}`,
    });
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
    default:
      return dtypeFail("allocate", "dtype", dtype);
  }
};

/**
 * Converts a JavaScript number to what storing it in a `dtype` buffer means, so constructors and
 * casts agree: `int32` truncates toward zero (NaN becomes 0, as typed arrays do), `bool` is
 * "nonzero" (so NaN is true, as in NumPy), floats keep the value (float32 rounds on store).
 * @example coerce("int32", -2.7) // -2
 */
export const coerce = (dtype: DType, value: number): number => {
  if (typeof value !== "number") {
    fail({
      _tag: "ValueError",
      op: "coerce",
      arg: "value",
      detail: `expected a number, got ${describeValue(value)}`,
      fix: "pass a JavaScript number",
    });
  }
  switch (dtype) {
    case "int32":
      return value | 0;
    case "bool":
      return value !== 0 ? 1 : 0;
    case "float32":
    case "float64":
      return value;
    default:
      return dtypeFail("coerce", "dtype", dtype);
  }
};
