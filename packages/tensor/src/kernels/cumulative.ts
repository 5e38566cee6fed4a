/**
 * @file Cumulative reductions along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp.
 *
 * Output j along the axis folds inputs 0..j (with `reverse`, inputs j..n−1), in that order. The
 * running state is kept in JavaScript doubles and every output is rounded once when stored, as the
 * reductions do: float32 sums and products accumulate in float64, so the last element of
 * `cumsum(x)` equals `sum(x)` over the same axis bit for bit. int32 sums and products wrap as
 * NumPy's int32 do; bool sums and multiplies as int32; max and min keep the dtype; NaN sticks.
 *
 * The axis splits the tensor into `[outer, n, inner]` (inner: the product of the later axes).
 * Each loop walks the axis in the outer position and the inner axes innermost, keeping one state
 * per inner index, so every pass reads and writes consecutive memory whatever the axis. float32
 * cumsum with an inner size that is a multiple of 4 runs in WebAssembly SIMD where available
 * (`wasm/cumsumWasm.ts`, the same bits), unless `setKernelBackend("js")`.
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkFlag, checkOptions, checkTensor } from "../check.js";
import { allocate, floatResultType, type DType } from "../DType.js";
import { fail } from "../errors.js";
import { describeValue } from "../internal.js";
import { normalizeAxis, type Shape } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { cumsumPlanesWasm } from "../wasm/cumsumWasm.js";
import { kernelBackend } from "./backend.js";

/**
 * Options of the cumulative ops. Both fields also accept an explicit `undefined`.
 * @example const opts: CumulativeOptions = { axis: 1, reverse: true }
 */
export interface CumulativeOptions {
  /** The axis to accumulate along; negative counts from the end (default −1, the last axis). */
  readonly axis?: number | undefined;
  /** Accumulate from the end of the axis towards its start (default false). */
  readonly reverse?: boolean | undefined;
}

/** The names of the cumulative ops. */
export type CumulativeOp = "cumsum" | "cumprod" | "cummax" | "cummin" | "logcumsumexp";

/**
 * Validates a cumulative op's tensor and options; returns the normalised axis and the direction.
 * @internal Shared with `linearScan`; not part of the public API.
 * @example cumulativeArgs("cumsum", x, { axis: -1 }) // [x.shape.length - 1, false]
 */
export const cumulativeArgs = (op: string, x: Tensor, opts: unknown): [axis: number, reverse: boolean] => {
  const rank = checkTensor(op, "x", x).shape.length;
  const o = checkOptions(op, opts, ["axis", "reverse"]);
  const reverse = checkFlag(op, "options.reverse", o.reverse) ?? false;
  if (rank === 0) {
    fail({
      _tag: "ValueError",
      op,
      arg: "x",
      detail: "a scalar (shape []) has no axis to accumulate along",
      fix: "reshape it to [1] first, or call it on a tensor of rank 1 or more",
    });
  }
  if (o.axis !== undefined && (typeof o.axis !== "number" || !Number.isInteger(o.axis))) {
    fail({
      _tag: "ValueError",
      op,
      arg: "options.axis",
      detail: `axis must be one integer, got ${describeValue(o.axis)}`,
      fix: `pass one axis in [${-rank}, ${rank - 1}], or omit it for the last axis`,
    });
  }
  return [normalizeAxis(op, "options.axis", (o.axis as number | undefined) ?? -1, rank), reverse];
};

/** `[outer, n, inner]`: the sizes before, along and after `axis`. */
const layout = (shape: Shape, axis: number): [number, number, number] => {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
};

/** Runs `op` along `axis` from `src` into a fresh buffer of `dtype` (no argument checks). */
const cumulativeFresh = (
  op: CumulativeOp,
  src: ReadonlyTypedArray,
  shape: Shape,
  axis: number,
  reverse: boolean,
  dtype: DType,
): WritableTypedArray => {
  const dst = allocate(dtype, src.length);
  cumulativeInto(op, src, dst, shape, axis, reverse, dtype);
  return dst;
};

/**
 * Runs `op` along `axis` of `src` (of `shape`) into `dst`, an array of the result's `dtype` and
 * `src`'s length, without argument checks: for the compiler, whose planned buffers take the result
 * (a fresh array per call costs its page faults on every call).
 * @internal Exported through `@rewind/tensor/internal/codegen` only.
 * @example cumulativeInto("cumsum", x.data, out, [16, 1024, 128], 2, false, "float32")
 */
export const cumulativeInto = (
  op: CumulativeOp,
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  shape: Shape,
  axis: number,
  reverse: boolean,
  dtype: DType,
): void => {
  const [outer, n, inner] = layout(shape, axis);
  if (outer * n * inner === 0) return;
  const int = dtype === "int32";
  if (op === "cumsum") {
    if (inner === 1) sumRows(src, dst, outer, n, reverse, int);
    else if (!(dtype === "float32" && wasmPlanes(src, dst, outer, n, inner, reverse)))
      sumPlanes(src, dst, outer, n, inner, reverse, int);
  } else if (op === "cumprod") prodLoop(src, dst, outer, n, inner, reverse, int);
  else if (op === "logcumsumexp") logSumExpLoop(src, dst, outer, n, inner, reverse);
  else extremeLoop(src, dst, outer, n, inner, reverse, op === "cummax" ? 1 : -1);
};

/** Below this many elements the WebAssembly call and copies cost more than the JavaScript loop. */
const WASM_MIN = 1024;

/** float32 cumsum over planes in WebAssembly SIMD (same bits) unless the backend says JavaScript. */
const wasmPlanes = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): boolean => {
  const backend = kernelBackend();
  return (
    backend !== "js" &&
    (src.length >= WASM_MIN || backend === "wasm") &&
    cumsumPlanesWasm(src as Float32Array, dst as Float32Array, outer, n, inner, reverse)
  );
};

/**
 * cumsum along the last axis: one running double per row. Floats run four rows at a time, so four
 * independent additions are in flight instead of one chain (same order per row, same bits).
 */
const sumRows = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  reverse: boolean,
  wrap: boolean,
): void => {
  let o = 0;
  if (!wrap) for (; o + 4 <= outer; o += 4) sumRows4(src, dst, o * n + (reverse ? n - 1 : 0), reverse ? -1 : 1, n);
  for (; o < outer; o++) {
    const base = o * n;
    let s = 0;
    if (reverse) {
      if (wrap) for (let i = base + n - 1; i >= base; i--) dst[i] = s = (s + src[i]!) | 0;
      else for (let i = base + n - 1; i >= base; i--) dst[i] = s = s + src[i]!;
    } else if (wrap) for (let i = base; i < base + n; i++) dst[i] = s = (s + src[i]!) | 0;
    else for (let i = base; i < base + n; i++) dst[i] = s = s + src[i]!;
  }
};

/** Four consecutive rows of `n`, from `p` on (`step` ±1 along each row). */
const sumRows4 = (src: ReadonlyTypedArray, dst: WritableTypedArray, p: number, step: number, n: number): void => {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++, p += step) {
    dst[p] = s0 += src[p]!;
    dst[p + n] = s1 += src[p + n]!;
    dst[p + 2 * n] = s2 += src[p + 2 * n]!;
    dst[p + 3 * n] = s3 += src[p + 3 * n]!;
  }
};

/**
 * cumsum along an axis followed by others: one running double per inner index. Floats run eight
 * inner indices at a time down the whole axis with the sums in locals (no accumulator array to
 * load and store per element: about 2.5× faster at [16, 1024, 128]); the order of additions per
 * output is the same either way, so are the bits.
 */
const sumPlanes = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
  wrap: boolean,
): void => {
  const blocked = wrap ? 0 : inner - (inner % 8);
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    const first = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let k = 0; k < blocked; k += 8) sumColumns8(src, dst, first + k, step, n);
    if (blocked < inner) {
      const acc = new Float64Array(inner - blocked);
      let p = first + blocked;
      for (let i = 0; i < n; i++, p += step) {
        if (wrap) for (let k = 0; k < acc.length; k++) dst[p + k] = acc[k] = (acc[k]! + src[p + k]!) | 0;
        else for (let k = 0; k < acc.length; k++) dst[p + k] = acc[k] = acc[k]! + src[p + k]!;
      }
    }
  }
};

/** Eight adjacent columns' running sums, `n` rows from `p` on, `step` apart. */
const sumColumns8 = (src: ReadonlyTypedArray, dst: WritableTypedArray, p: number, step: number, n: number): void => {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let a4 = 0;
  let a5 = 0;
  let a6 = 0;
  let a7 = 0;
  for (let i = 0; i < n; i++, p += step) {
    a0 += src[p]!;
    a1 += src[p + 1]!;
    a2 += src[p + 2]!;
    a3 += src[p + 3]!;
    a4 += src[p + 4]!;
    a5 += src[p + 5]!;
    a6 += src[p + 6]!;
    a7 += src[p + 7]!;
    dst[p] = a0;
    dst[p + 1] = a1;
    dst[p + 2] = a2;
    dst[p + 3] = a3;
    dst[p + 4] = a4;
    dst[p + 5] = a5;
    dst[p + 6] = a6;
    dst[p + 7] = a7;
  }
};

const prodLoop = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
  wrap: boolean,
): void => {
  const acc = new Float64Array(inner);
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    acc.fill(1);
    let p = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let i = 0; i < n; i++, p += step) {
      if (wrap) for (let k = 0; k < inner; k++) dst[p + k] = acc[k] = Math.imul(acc[k]!, src[p + k]!);
      else for (let k = 0; k < inner; k++) dst[p + k] = acc[k] = acc[k]! * src[p + k]!;
    }
  }
};

/** Running max (`sign` 1) or min (−1): replace when better or NaN, and once NaN stay NaN (as `max`). */
const extremeLoop = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
  sign: number,
): void => {
  const best = new Float64Array(inner);
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    let p = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let k = 0; k < inner; k++) dst[p + k] = best[k] = src[p + k]!;
    p += step;
    for (let i = 1; i < n; i++, p += step) {
      for (let k = 0; k < inner; k++) {
        const b = best[k]!;
        const v = src[p + k]!;
        // `b === b` is the NaN test: a NaN best is never replaced.
        if (b === b && (v !== v || sign * (v - b) > 0)) best[k] = v;
        dst[p + k] = best[k]!;
      }
    }
  }
};

/**
 * log Σ exp, streamed: the running max `m` and `s = Σ exp(x − m)`; a new max rescales `s`. Equal
 * values add exactly 1 (so two +Inf or two −Inf never compute Inf − Inf); NaN makes `s` NaN.
 */
const logSumExpLoop = (
  src: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void => {
  const ms = new Float64Array(inner);
  const ss = new Float64Array(inner);
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    ms.fill(-Infinity);
    ss.fill(0);
    let p = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let i = 0; i < n; i++, p += step) {
      for (let k = 0; k < inner; k++) {
        const v = src[p + k]!;
        const m = ms[k]!;
        let s = ss[k]!;
        if (v > m) {
          s = s * Math.exp(m - v) + 1;
          ms[k] = v;
        } else s += v === m ? 1 : Math.exp(v - m);
        ss[k] = s;
        dst[p + k] = ms[k]! + Math.log(s);
      }
    }
  }
};

const run = (op: CumulativeOp, dtype: (d: DType) => DType, x: Tensor, opts: CumulativeOptions): Tensor => {
  const [axis, reverse] = cumulativeArgs(op, x, opts);
  const out = dtype(x.dtype);
  return fromBuffer(out, x.shape, cumulativeFresh(op, x.data, x.shape, axis, reverse, out));
};

const intOfBool = (d: DType): DType => (d === "bool" ? "int32" : d);
const same = (d: DType): DType => d;

/**
 * Running sum along `axis` (default the last): output j is x_0 + … + x_j (with `reverse`,
 * x_j + … + x_{n−1}). float32 accumulates in float64, int32 wraps, bool sums as int32.
 * @example cumsum(tensor([[1, 2, 3], [4, 5, 6]]), { axis: 1 }).data // Float32Array [1, 3, 6, 4, 9, 15]
 */
export const cumsum = (x: Tensor, opts: CumulativeOptions = {}): Tensor => run("cumsum", intOfBool, x, opts);

/**
 * Running product along `axis` (default the last); `reverse` runs from the end. float32
 * multiplies in float64, int32 wraps (as `prod`), bool multiplies as int32.
 * @example cumprod(tensor([1, 2, 3, 4])).data // Float32Array [1, 2, 6, 24]
 */
export const cumprod = (x: Tensor, opts: CumulativeOptions = {}): Tensor => run("cumprod", intOfBool, x, opts);

/**
 * Running maximum along `axis` (default the last); keeps the dtype; NaN sticks (as `max`).
 * @example cummax(tensor([1, 3, 2, 5])).data // Float32Array [1, 3, 3, 5]
 */
export const cummax = (x: Tensor, opts: CumulativeOptions = {}): Tensor => run("cummax", same, x, opts);

/**
 * Running minimum along `axis` (default the last); keeps the dtype; NaN sticks (as `min`).
 * @example cummin(tensor([3, 1, 2, 0])).data // Float32Array [3, 1, 1, 0]
 */
export const cummin = (x: Tensor, opts: CumulativeOptions = {}): Tensor => run("cummin", same, x, opts);

/**
 * Running log Σ exp along `axis` (default the last), computed in float64 with a running max, so
 * it is exact for ±1000 and −Inf entries; int32 and bool give float32.
 * @example logcumsumexp(tensor([0, 0, 0])).data // Float32Array [0, 0.6931, 1.0986]
 */
export const logcumsumexp = (x: Tensor, opts: CumulativeOptions = {}): Tensor =>
  run("logcumsumexp", floatResultType, x, opts);
