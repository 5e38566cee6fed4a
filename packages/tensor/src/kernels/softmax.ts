/**
 * @file The softmax family: logSumExp, softmax and logSoftmax, numerically stable.
 *
 * These are kernels (not compositions of exp, sum and log) because stability needs the max shift
 * inside the loop: `logSumExp(x) = m + log Σ exp(x − m)` with `m = max x`, so the largest term is
 * `exp(0) = 1` and nothing overflows, even for inputs of ±1000. When `m` is not finite the shift
 * is 0 instead, which makes the edge cases come out right without special code:
 * - all entries −Inf (a fully masked row): `log Σ exp(−Inf) = log 0 = −Inf`, not `−Inf − (−Inf) = NaN`;
 * - any +Inf entry: `exp(+Inf) = +Inf`, so logSumExp is +Inf;
 * - any NaN: NaN propagates through `exp` and the sum.
 * Other −Inf entries act as masks: `exp(−Inf − m) = 0`. All arithmetic is in float64; float32
 * results are rounded once at the end. Integer and bool inputs give float32.
 */
import { allocate, floatResultType } from "../DType.js";
import { normalizeAxis } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { checkTensor } from "../check.js";
import { planReduction, reduceArgs, type ReduceOptions } from "./reduce.js";

/**
 * `log(sum(exp(x)))` over axes, computed stably with the max shift. An empty group gives −Inf
 * (the log of an empty sum). Float dtypes are kept; `int32`/`bool` give `float32`.
 * @example logSumExp(tensor([1000, 1000], "float64")).data // Float64Array [1000.6931471805599]
 */
export const logSumExp = (x: Tensor, opts: ReduceOptions = {}): Tensor => {
  const [axis, keepDims] = reduceArgs("logSumExp", x, opts);
  const plan = planReduction("logSumExp", x.shape, axis, keepDims);
  const { outer, inner, count } = plan;
  const data = x.data;
  const dtype = floatResultType(x.dtype);
  const out = allocate(dtype, outer.length);
  for (let o = 0; o < outer.length; o++) {
    const base = outer[o]!;
    let m = -Infinity;
    for (let j = 0; j < count; j++) {
      const v = data[base + inner[j]!]!;
      if (v > m) m = v;
    }
    // Shift by 0 when the max is ±Inf (or the group is empty): see the file comment.
    const shift = Number.isFinite(m) ? m : 0;
    let s = 0;
    for (let j = 0; j < count; j++) s += Math.exp(data[base + inner[j]!]! - shift);
    out[o] = shift + Math.log(s);
  }
  return fromBuffer(dtype, plan.outShape, out);
};

/**
 * Runs `row` over every 1-D slice of `x` along `axis`: slice `r` starts at `starts[r]` and steps
 * by `stride`. Viewing x as `[outer, n, inner]` means no index arrays are needed.
 */
const alongAxis = (
  op: string,
  x: Tensor,
  axis: number,
  row: (start: number, stride: number, n: number, out: Float32Array | Float64Array) => void,
): Tensor => {
  const ax = normalizeAxis(op, "axis", axis, checkTensor(op, "x", x).shape.length);
  const n = x.shape[ax]!;
  let inner = 1;
  for (let i = ax + 1; i < x.shape.length; i++) inner *= x.shape[i]!;
  const size = x.data.length;
  const dtype = floatResultType(x.dtype);
  const out = allocate(dtype, size) as Float32Array | Float64Array;
  const block = n * inner;
  for (let start0 = 0; start0 < size; start0 += block) {
    for (let i = 0; i < inner; i++) row(start0 + i, inner, n, out);
  }
  return fromBuffer(dtype, x.shape, out);
};

/** The shift of one slice: its max, or 0 when that is ±Inf. NaN needs no care here: it reaches
 * every output through `exp` and the sum. */
const rowShift = (data: Tensor["data"], start: number, stride: number, n: number): number => {
  let m = -Infinity;
  for (let j = 0, p = start; j < n; j++, p += stride) {
    const v = data[p]!;
    if (v > m) m = v;
  }
  return Number.isFinite(m) ? m : 0;
};

/**
 * `exp(x) / sum(exp(x))` along one axis (default the last), with the max shift so large inputs do
 * not overflow. −Inf entries get probability 0; a slice of all −Inf gives NaN (0/0), as in JAX and
 * PyTorch; a +Inf entry gives NaN (Inf/Inf). Float dtypes are kept; `int32`/`bool` give `float32`.
 * @example softmax(tensor([[0, 0], [1000, 1000]])).data // Float32Array [0.5, 0.5, 0.5, 0.5]
 */
export const softmax = (x: Tensor, axis = -1): Tensor => {
  const data = checkTensor("softmax", "x", x).data;
  // One float64 scratch row, so each exp is computed once and rounded only on the final store.
  let scratch = new Float64Array(0);
  return alongAxis("softmax", x, axis, (start, stride, n, out) => {
    if (scratch.length < n) scratch = new Float64Array(n);
    const shift = rowShift(data, start, stride, n);
    let s = 0;
    for (let j = 0, p = start; j < n; j++, p += stride) {
      const e = Math.exp(data[p]! - shift);
      scratch[j] = e;
      s += e;
    }
    for (let j = 0, p = start; j < n; j++, p += stride) out[p] = scratch[j]! / s;
  });
};

/**
 * `x − logSumExp(x)` along one axis (default the last): the log of `softmax`, without computing
 * `log(softmax)`, so it stays finite where softmax underflows to 0. −Inf entries stay −Inf; a
 * slice of all −Inf gives NaN. Float dtypes are kept; `int32`/`bool` give `float32`.
 * @example logSoftmax(tensor([1000, 1000], "float64")).data // Float64Array [-0.693..., -0.693...]
 */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => {
  const data = checkTensor("logSoftmax", "x", x).data;
  return alongAxis("logSoftmax", x, axis, (start, stride, n, out) => {
    const shift = rowShift(data, start, stride, n);
    let s = 0;
    for (let j = 0, p = start; j < n; j++, p += stride) s += Math.exp(data[p]! - shift);
    const logS = Math.log(s);
    // (x − m) − log s rather than x − (m + log s): the first subtraction is exact near the max.
    for (let j = 0, p = start; j < n; j++, p += stride) out[p] = data[p]! - shift - logS;
  });
};
