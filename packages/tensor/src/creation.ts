/**
 * @file Tensors made from a shape or a range rather than from data.
 */
import { allocate, coerce, type DType } from "./DType.js";
import { fail } from "./errors.js";
import { sizeOf, validateShape, type Shape } from "./Shape.js";
import { defaultFloat, fromBuffer, type Tensor } from "./Tensor.js";

/**
 * A tensor of `shape` with every element equal to `value`.
 * @example full([2], 7).data // Float32Array [7, 7]
 */
export const full = (shape: Shape, value: number, dtype: DType = defaultFloat): Tensor => {
  const sh = validateShape("full", "shape", shape);
  const out = allocate(dtype, sizeOf(sh));
  out.fill(coerce(dtype, value));
  return fromBuffer(dtype, sh, out);
};

/**
 * A tensor of zeros.
 * @example zeros([2, 3], "float64").shape // [2, 3]
 */
export const zeros = (shape: Shape, dtype: DType = defaultFloat): Tensor => full(shape, 0, dtype);

/**
 * A tensor of ones.
 * @example ones([3]).data // Float32Array [1, 1, 1]
 */
export const ones = (shape: Shape, dtype: DType = defaultFloat): Tensor => full(shape, 1, dtype);

/**
 * Zeros with the shape (and, unless given, the dtype) of `t`.
 * @example zerosLike(ones([2])).data // Float32Array [0, 0]
 */
export const zerosLike = (t: Tensor, dtype: DType = t.dtype): Tensor => full(t.shape, 0, dtype);

/**
 * Ones with the shape (and, unless given, the dtype) of `t`.
 * @example onesLike(zeros([2])).data // Float32Array [1, 1]
 */
export const onesLike = (t: Tensor, dtype: DType = t.dtype): Tensor => full(t.shape, 1, dtype);

/**
 * A rank-0 tensor holding `value`.
 * @example scalar(2.5, "float64").shape // []
 */
export const scalar = (value: number, dtype: DType = defaultFloat): Tensor => full([], value, dtype);

/**
 * Evenly spaced values in `[start, stop)` with `step`, like NumPy's `arange`. With one argument,
 * it is `stop` and the range starts at 0. Integer arguments give `int32` unless a dtype is given.
 * @example arange(0, 5, 2).data // Int32Array [0, 2, 4]
 */
export const arange = (start: number, stop?: number, step = 1, dtype?: DType): Tensor => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step) || step === 0) {
    return fail({
      _tag: "ValueError",
      op: "arange",
      arg: "step",
      detail: `start, stop and step must be finite and step nonzero (got ${lo}, ${hi}, ${step})`,
      fix: "pass finite bounds and a nonzero step",
    });
  }
  const dt = dtype ?? ([lo, hi, step].every(Number.isInteger) ? "int32" : defaultFloat);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const out = allocate(dt, n);
  for (let i = 0; i < n; i++) out[i] = coerce(dt, lo + i * step);
  return fromBuffer(dt, [n], out);
};

/**
 * `num` evenly spaced values from `start` to `stop` inclusive, like NumPy's `linspace`.
 * @example linspace(0, 1, 5).data // Float32Array [0, 0.25, 0.5, 0.75, 1]
 */
export const linspace = (start: number, stop: number, num: number, dtype: DType = defaultFloat): Tensor => {
  if (!Number.isSafeInteger(num) || num < 0) {
    return fail({
      _tag: "ValueError",
      op: "linspace",
      arg: "num",
      detail: `num must be a non-negative integer, got ${num}`,
      fix: "pass how many points you want, e.g. 50",
    });
  }
  const out = allocate(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = coerce(dtype, i === num - 1 && num > 1 ? stop : start + i * step);
  return fromBuffer(dtype, [num], out);
};

/**
 * The `n × m` identity matrix (ones on the `k`-th diagonal).
 * @example eye(2).data // Float32Array [1, 0, 0, 1]
 */
export const eye = (n: number, m: number = n, k = 0, dtype: DType = defaultFloat): Tensor => {
  const sh = validateShape("eye", "n, m", [n, m]);
  if (!Number.isInteger(k)) {
    return fail({ _tag: "ValueError", op: "eye", arg: "k", detail: `k must be an integer, got ${k}`, fix: "pass a diagonal offset like 0, 1 or -1" });
  }
  const out = allocate(dtype, n * m);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) out[i * m + j] = 1;
  }
  return fromBuffer(dtype, sh, out);
};
