/**
 * @file Tensors made from a shape or a range rather than from data.
 */
import { checkCount, checkDType, checkNumber, checkTensor } from "./check.js";
import { allocate, coerce, type DType } from "./DType.js";
import { fail } from "./errors.js";
import { sizeOf, validateShape, type Shape } from "./Shape.js";
import { defaultFloat, fromBuffer, type Tensor } from "./Tensor.js";

/**
 * A tensor of `shape` with every element equal to `value`.
 * @example full([2], 7).data // Float32Array [7, 7]
 */
export const full = (shape: Shape, value: number, dtype: DType = defaultFloat): Tensor =>
  fullAs("full", shape, value, dtype);

/** `full`, with errors naming the op the user called (`zeros`, `scalar`, ...). */
const fullAs = (op: string, shape: Shape, value: number, dtype: DType): Tensor => {
  const sh = validateShape(op, "shape", shape);
  const dt = checkDType(op, "dtype", dtype);
  const out = allocate(dt, sizeOf(sh));
  out.fill(coerce(dt, checkNumber(op, "value", value)));
  return fromBuffer(dt, sh, out);
};

/**
 * A tensor of zeros.
 * @example zeros([2, 3], "float64").shape // [2, 3]
 */
export const zeros = (shape: Shape, dtype: DType = defaultFloat): Tensor => fullAs("zeros", shape, 0, dtype);

/**
 * A tensor of ones.
 * @example ones([3]).data // Float32Array [1, 1, 1]
 */
export const ones = (shape: Shape, dtype: DType = defaultFloat): Tensor => fullAs("ones", shape, 1, dtype);

/**
 * Zeros with the shape (and, unless given, the dtype) of `t`.
 * @example zerosLike(ones([2])).data // Float32Array [0, 0]
 */
export const zerosLike = (t: Tensor, dtype?: DType): Tensor => {
  const x = checkTensor("zerosLike", "t", t);
  return fullAs("zerosLike", x.shape, 0, dtype === undefined ? x.dtype : dtype);
};

/**
 * Ones with the shape (and, unless given, the dtype) of `t`.
 * @example onesLike(zeros([2])).data // Float32Array [1, 1]
 */
export const onesLike = (t: Tensor, dtype?: DType): Tensor => {
  const x = checkTensor("onesLike", "t", t);
  return fullAs("onesLike", x.shape, 1, dtype === undefined ? x.dtype : dtype);
};

/**
 * A rank-0 tensor holding `value`.
 * @example scalar(2.5, "float64").shape // []
 */
export const scalar = (value: number, dtype: DType = defaultFloat): Tensor => fullAs("scalar", [], value, dtype);

/**
 * Evenly spaced values in `[start, stop)` with `step`, like NumPy's `arange`. With one argument,
 * it is `stop` and the range starts at 0. Integer arguments give `int32` unless a dtype is given.
 * @example arange(0, 5, 2).data // Int32Array [0, 2, 4]
 */
export const arange = (start: number, stop?: number, step = 1, dtype?: DType): Tensor => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  // Number.isFinite is false for non-numbers too, so a string bound lands here as well.
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(step) || step === 0) {
    return fail({
      _tag: "ValueError",
      op: "arange",
      arg: "step",
      detail: `start, stop and step must be finite and step nonzero (got ${lo}, ${hi}, ${step})`,
      fix: "pass finite bounds and a nonzero step",
    });
  }
  const dt =
    dtype === undefined
      ? [lo, hi, step].every(Number.isInteger)
        ? "int32"
        : defaultFloat
      : checkDType("arange", "dtype", dtype);
  const n = checkCount("arange", "start, stop, step", Math.max(0, Math.ceil((hi - lo) / step)));
  const out = allocate(dt, n);
  for (let i = 0; i < n; i++) out[i] = coerce(dt, lo + i * step);
  return fromBuffer(dt, [n], out);
};

/**
 * `num` evenly spaced values from `start` to `stop` inclusive, like NumPy's `linspace`.
 * @example linspace(0, 1, 5).data // Float32Array [0, 0.25, 0.5, 0.75, 1]
 */
export const linspace = (start: number, stop: number, num: number, dtype: DType = defaultFloat): Tensor => {
  checkNumber("linspace", "start", start);
  checkNumber("linspace", "stop", stop);
  const dt = checkDType("linspace", "dtype", dtype);
  if (!Number.isSafeInteger(num) || num < 0) {
    return fail({
      _tag: "ValueError",
      op: "linspace",
      arg: "num",
      detail: `num must be a non-negative integer, got ${num}`,
      fix: "pass how many points you want, e.g. 50",
    });
  }
  const out = allocate(dt, checkCount("linspace", "num", num));
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = coerce(dt, i === num - 1 && num > 1 ? stop : start + i * step);
  return fromBuffer(dt, [num], out);
};

/**
 * The `n × m` identity matrix (ones on the `k`-th diagonal).
 * @example eye(2).data // Float32Array [1, 0, 0, 1]
 */
export const eye = (n: number, m: number = n, k = 0, dtype: DType = defaultFloat): Tensor => {
  const sh = validateShape("eye", "n, m", [n, m]);
  const dt = checkDType("eye", "dtype", dtype);
  if (!Number.isInteger(k)) {
    return fail({
      _tag: "ValueError",
      op: "eye",
      arg: "k",
      detail: `k must be an integer, got ${k}`,
      fix: "pass a diagonal offset like 0, 1 or -1",
    });
  }
  const out = allocate(dt, n * m);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) out[i * m + j] = 1;
  }
  return fromBuffer(dt, sh, out);
};
