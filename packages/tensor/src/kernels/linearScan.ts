/**
 * @file The first-order linear recurrence along one axis, h_t = a_t · h_{t−1} + b_t (h before the
 * start is 0; with `reverse`, h_t = a_t · h_{t+1} + b_t from the end). One sequential pass, with
 * the running h in a JavaScript double and each output rounded once when stored, as the cumulative
 * kernels do. The VJPs of cumprod, cummax/cummin and logcumsumexp are made of it.
 *
 * float32 with an inner size that is a multiple of 4 runs in WebAssembly SIMD where available
 * (`wasm/linearScanWasm.ts`, the same bits), unless `setKernelBackend("js")`. The JavaScript loop
 * keeps four running h in locals per pass down the axis, in one copy per dtype, so that each loop
 * sees one typed-array class (a single loop shared by both, with h in an array, was slower).
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkTensor } from "../check.js";
import { allocate, isFloating } from "../DType.js";
import { fail, formatShape } from "../errors.js";
import { shapesEqual } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { linearScanPlanesWasm } from "../wasm/linearScanWasm.js";
import { kernelBackend } from "./backend.js";
import { cumulativeArgs, type CumulativeOptions } from "./cumulative.js";

/**
 * h_t = a_t · h_{t−1} + b_t along `axis` (default the last), h_{−1} = 0; `reverse` runs from the
 * end: h_t = a_t · h_{t+1} + b_t. `a` and `b` are float tensors of one shape and dtype.
 * @example linearScan(tensor([1, 2, 3]), tensor([1, 1, 1])).data // Float32Array [1, 3, 10]
 */
export const linearScan = (a: Tensor, b: Tensor, opts: CumulativeOptions = {}): Tensor => {
  checkTensor("linearScan", "a", a);
  const [axis, reverse] = cumulativeArgs("linearScan", checkTensor("linearScan", "b", b), opts);
  if (!shapesEqual(a.shape, b.shape))
    fail({
      _tag: "ShapeError",
      op: "linearScan",
      arg: "b",
      shapes: [a.shape, b.shape],
      detail: `a has shape ${formatShape(a.shape)} but b has ${formatShape(b.shape)}`,
      fix: "pass a and b of one shape (broadcast them first)",
    });
  if (a.dtype !== b.dtype || !isFloating(a.dtype))
    fail({
      _tag: "DTypeError",
      op: "linearScan",
      arg: "b",
      detail: `a and b must share one float dtype, got ${a.dtype} and ${b.dtype}`,
      fix: "convert both with astype(x, 'float32') or astype(x, 'float64') first",
    });
  const out = allocate(a.dtype, a.data.length);
  linearScanInto(a.data, b.data, out, a.shape, axis, reverse);
  return fromBuffer(a.dtype, a.shape, out);
};

/**
 * `linearScan` of the float arrays `a` and `b` (one dtype) of `shape` along `axis` into `dst`, of
 * their class and length, without argument checks: for the compiler, whose planned buffers take
 * the result (a fresh array per call costs its page faults on every call).
 * @internal Exported through `@rewind/tensor/internal/codegen` only.
 * @example linearScanInto(a.data, b.data, out, [16, 1024, 128], 1, false) // out holds every h_t
 */
export const linearScanInto = (
  a: ReadonlyTypedArray,
  b: ReadonlyTypedArray,
  dst: WritableTypedArray,
  shape: readonly number[],
  axis: number,
  reverse: boolean,
): void => {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  scanLoop(a, b, dst, outer, shape[axis]!, inner, reverse);
};

/** Below this many elements the WebAssembly call and copies cost more than the JavaScript loop. */
const WASM_MIN = 1024;

const scanLoop = (
  a: ReadonlyTypedArray,
  b: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void => {
  if (outer * n * inner === 0) return;
  if (a instanceof Float32Array) {
    const backend = kernelBackend();
    const wasm =
      backend !== "js" &&
      (a.length >= WASM_MIN || backend === "wasm") &&
      linearScanPlanesWasm(a, b as Float32Array, dst as Float32Array, outer, n, inner, reverse);
    if (!wasm) scanPlanes(columns4F32, a, b, dst, outer, n, inner, reverse);
  } else scanPlanes(columns4F64, a, b, dst, outer, n, inner, reverse);
};

type Columns4 = (
  a: ReadonlyTypedArray,
  b: ReadonlyTypedArray,
  dst: WritableTypedArray,
  p: number,
  step: number,
  n: number,
) => void;

/**
 * Blocks of four inner indices run down the whole axis with their h in locals (`columns4`, one
 * copy per dtype so each call site sees one array class); the rest keep h in an array. The
 * operations per output are the same either way, so are the bits.
 */
const scanPlanes = (
  columns4: Columns4,
  a: ReadonlyTypedArray,
  b: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void => {
  const blocked = inner - (inner % 4);
  const step = reverse ? -inner : inner;
  const h = blocked < inner ? new Float64Array(inner - blocked) : undefined;
  for (let o = 0; o < outer; o++) {
    const first = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let k = 0; k < blocked; k += 4) columns4(a, b, dst, first + k, step, n);
    if (h !== undefined) {
      h.fill(0);
      let p = first + blocked;
      for (let i = 0; i < n; i++, p += step)
        for (let k = 0; k < h.length; k++) dst[p + k] = h[k] = a[p + k]! * h[k]! + b[p + k]!;
    }
  }
};

/** Four adjacent columns of float32 `a`, `b`, `dst`: `n` rows from `p` on, `step` apart. */
const columns4F32: Columns4 = (a, b, dst, p, step, n) => {
  const [x, y, z] = [a as Float32Array, b as Float32Array, dst as Float32Array];
  let h0 = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  for (let i = 0; i < n; i++, p += step) {
    z[p] = h0 = x[p]! * h0 + y[p]!;
    z[p + 1] = h1 = x[p + 1]! * h1 + y[p + 1]!;
    z[p + 2] = h2 = x[p + 2]! * h2 + y[p + 2]!;
    z[p + 3] = h3 = x[p + 3]! * h3 + y[p + 3]!;
  }
};

/** `columns4F32` for float64 (the same code, its own call sites). */
const columns4F64: Columns4 = (a, b, dst, p, step, n) => {
  const [x, y, z] = [a as Float64Array, b as Float64Array, dst as Float64Array];
  let h0 = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  for (let i = 0; i < n; i++, p += step) {
    z[p] = h0 = x[p]! * h0 + y[p]!;
    z[p + 1] = h1 = x[p + 1]! * h1 + y[p + 1]!;
    z[p + 2] = h2 = x[p + 2]! * h2 + y[p + 2]!;
    z[p + 3] = h3 = x[p + 3]! * h3 + y[p + 3]!;
  }
};
