/**
 * @file Matrix products: `matmul` (NumPy semantics), `matmulKernel` (one product into a buffer)
 * and `matmulInto` (the same with transposed operands, for compiled graphs and backward passes).
 *
 * `matmul` only works out shapes, dtypes and batch offsets; every multiply-add happens in one of
 * the kernels chosen by element type (the float64 and int32 loops are in `matmulLoops.ts`):
 * - float32: `../wasm/` — a WebAssembly SIMD kernel generated at run time (~40 GFLOP/s at 512 on
 *   one core here: ~10× the blocked JS kernel it replaced, ~30× a plain JS loop; see bench/) and
 *   a pure-JS kernel with the same arithmetic, bit for bit: each output starts at +0 and adds its
 *   k products in increasing k, `acc = f32(acc + f32(a·b))` (no fused multiply-add). So
 *   which one runs never changes a result: the WebAssembly one wherever it is available and the
 *   product is big enough to repay copying operands into its memory, the JS one otherwise
 *   (`setKernelBackend` pins one, for tests). Transposed operands (`matmulInto`'s `transA`,
 *   `transB`) are read through strides while packing, never materialised.
 * - float64: the JS kernel in `matmulLoops.ts`. i-k-j order (the inner loop walks rows of `b` and `out` with
 *   unit stride), 4×4 register blocking (each loaded `b` value feeds four outputs; ~5× over a
 *   plain loop), and 256 × 256 blocks over k and j so the block of `b` stays in L2. Four products
 *   are summed, then added to `out`. With `transB` a dot-product loop over unit-stride rows
 *   computes exactly the same expression per element, so `matmulInto(…, { transB: true })`
 *   equals `matmulKernel` on the explicit transpose bit for bit (and likewise `transA`).
 * - int32: `Math.imul` and wrapping stores, exact like NumPy (bool is computed in int32).
 * One function per element type: V8 compiles a function that has seen several typed-array
 * types into slower polymorphic code (measured 1.5–2×).
 */
import type { ReadonlyFloat32Array, ReadonlyFloat64Array, ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkOptions, checkFlag, checkTensor } from "../check.js";
import { allocate, promoteTypes } from "../DType.js";
import { fail, formatShape, TensorException } from "../errors.js";
import { broadcastShapes, type Shape } from "../Shape.js";
import { astype, fromBuffer, type Tensor } from "../Tensor.js";
import { matmulF32Js } from "../wasm/matmulJs.js";
import type { MatmulArgs } from "./matmulArgs.js";
import { matmulF32Wasm } from "../wasm/matmulRuntime.js";
import { kernelBackend } from "./backend.js";
import { broadcastStrides, viewOffsets } from "./strided.js";
import { kernelF64, kernelF64Dots, kernelI32 } from "./matmulLoops.js";

/**
 * Below this many multiply-adds (m·k·n) the JS kernel is faster: a WebAssembly call with its
 * copies costs ~0.25 µs, as much as ~300 multiply-adds in JS (measured: 4³ JS 0.10 µs vs 0.26 µs,
 * 8³ JS 0.49 µs vs 0.32 µs). The compiler uses the same threshold for its in-place products.
 * @example 8 * 8 * 8 >= WASM_MIN_MACS // true: an 8³ product runs in WebAssembly
 */
export const WASM_MIN_MACS = 512;

const matmulF32 = (args: MatmulArgs<Float32Array>): void => {
  const backend = kernelBackend();
  const wasm = backend === "wasm" || (backend === "auto" && args.m * args.k * args.n >= WASM_MIN_MACS);
  // matmulF32Wasm declines (returns false) if memory cannot grow; the JS kernel gives the same bits.
  if (!(wasm && matmulF32Wasm(args))) matmulF32Js(args);
};

const matmulF64 = (args: MatmulArgs<Float64Array>): void => {
  const { out, outOffset: oo, a, aOffset: ao, b, bOffset: bo, m, k, n } = args;
  out.fill(0, oo, oo + m * n);
  // a[i, p] is a[ao + i·ars + p·acs]: (k, 1) for a row-major a, (1, m) for a transposed one.
  const [ars, acs] = args.transA === true ? [1, m] : [k, 1];
  if (args.transB === true) kernelF64Dots(out, oo, a, ao, ars, acs, b, bo, m, k, n);
  else kernelF64(out, oo, a, ao, ars, acs, b, bo, m, k, n);
};

/** A product's buffers and sizes as they arrive, before any check. */
type Unchecked = Omit<MatmulArgs<unknown, unknown>, "transA" | "transB">;

/**
 * @internal The product of `args` with no checks at all, for generated code that has proved the
 * buffers' classes and ranges when it was compiled (`matmulInto` checks them on every call):
 * float32 and float64 with transposes, int32 without. Same kernels, so the same bits.
 * @example
 * const out = new Float64Array(1);
 * const [a, b] = [Float64Array.of(1, 2), Float64Array.of(3, 4)];
 * productInto({ out, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 1, k: 2, n: 1 }); // out [11]
 */
export const productInto = (args: MatmulArgs): void => {
  const { out } = args;
  if (out instanceof Float32Array) matmulF32(args as MatmulArgs<Float32Array>);
  else if (out instanceof Float64Array) matmulF64(args as MatmulArgs<Float64Array>);
  else {
    const { outOffset: oo, m, k, n } = args;
    out.fill(0, oo, oo + m * n);
    kernelI32(out, oo, args.a as Int32Array, args.aOffset, args.b as Int32Array, args.bOffset, m, k, n);
  }
};

/** The arguments of `matmulKernel`: a product without transposes. */
export type MatmulKernelArgs = Omit<MatmulArgs<WritableTypedArray, ReadonlyTypedArray>, "transA" | "transB">;

/**
 * Writes the `m × n` product of the row-major `m × k` matrix at `a[aOffset..]` and the `k × n`
 * matrix at `b[bOffset..]` into `out[outOffset..]` (overwriting it). All three buffers must have
 * the same element type; `bool` is not accepted (matmul computes it in int32). Every number
 * `matmul` computes goes through here. The positional form
 * `matmulKernel(out, outOffset, a, aOffset, b, bOffset, m, k, n)` is deprecated.
 * @throws TensorException (`ValueError`, `DTypeError`) for ranges outside a buffer or mixed buffer types.
 * @example
 * const out = new Float32Array(1);
 * const [a, b] = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
 * matmulKernel({ out, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 1, k: 2, n: 1 }); // out [11]
 */
export function matmulKernel(args: MatmulKernelArgs): void;
/** @deprecated Pass one `MatmulKernelArgs` object: `matmulKernel({ out, outOffset, a, aOffset, … })`. */
export function matmulKernel(
  out: WritableTypedArray,
  outOffset: number,
  a: ReadonlyTypedArray,
  aOffset: number,
  b: ReadonlyTypedArray,
  bOffset: number,
  m: number,
  k: number,
  n: number,
): void;
export function matmulKernel(...params: unknown[]): void {
  const args = isBuffer(params[0]) ? positional(params) : descriptor("matmulKernel", params[0], undefined);
  // No transposes here, whatever the object holds: the kernels get exactly the fields below.
  const { out, outOffset, a, aOffset, b, bOffset, m, k, n } = args;
  runKernel({ out, outOffset, a, aOffset, b, bOffset, m, k, n });
}

/** The deprecated positional arguments `(out, outOffset, a, aOffset, b, bOffset, m, k, n[, options])` as one object. */
const positional = (p: readonly unknown[]): Unchecked & { readonly options?: unknown } => ({
  out: p[0],
  outOffset: p[1] as number,
  a: p[2],
  aOffset: p[3] as number,
  b: p[4],
  bOffset: p[5] as number,
  m: p[6] as number,
  k: p[7] as number,
  n: p[8] as number,
  options: p[9],
});

/** `matmulKernel` after its checks; `matmul` calls it once per matrix of a batch. */
const runKernel = (args: Unchecked): void => {
  checkRanges("matmulKernel", args);
  const { out } = args;
  const proto = Object.getPrototypeOf(out) as unknown;
  if (Object.getPrototypeOf(args.a) !== proto || Object.getPrototypeOf(args.b) !== proto) {
    fail({
      _tag: "DTypeError",
      op: "matmulKernel",
      arg: "a, b",
      detail: "out, a and b must be typed arrays of one class",
      fix: "convert the operands first (matmul does this)",
    });
  }
  // The casts only restate what the instanceof test on `out` and the check above guarantee.
  if (out instanceof Float32Array) matmulF32(args as MatmulArgs<Float32Array>);
  else if (out instanceof Float64Array) matmulF64(args as MatmulArgs<Float64Array>);
  else if (out instanceof Int32Array) {
    const { outOffset: oo, m, k, n } = args;
    out.fill(0, oo, oo + m * n);
    kernelI32(out, oo, args.a as Int32Array, args.aOffset, args.b as Int32Array, args.bOffset, m, k, n);
  } else {
    fail({
      _tag: "DTypeError",
      op: "matmulKernel",
      arg: "out",
      detail: "bool buffers are not supported by the kernel",
      fix: "compute in int32 and convert (matmul does this)",
    });
  }
};

/** Options of `matmulInto`: read `a` (stored k × m) or `b` (stored n × k) as transposed. */
export interface MatmulIntoOptions {
  /** Read `a` as the transpose of its stored k × m layout (default false: stored m × k). */
  readonly transA?: boolean;
  /** Read `b` as the transpose of its stored n × k layout (default false: stored k × n). */
  readonly transB?: boolean;
}

const intoError = (arg: string, detail: string, fix: string): never =>
  fail({ _tag: "ValueError", op: "matmulInto", arg, detail, fix });

const isBuffer = (x: unknown): x is ReadonlyTypedArray =>
  x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array || x instanceof Uint8Array;

/**
 * Checks the buffers, sizes and offsets of a kernel call: `m × k`, `k × n` and `m × n` ranges
 * starting at the offsets must lie inside `a`, `b` and `out` (an out-of-range read would give
 * undefined, stored as NaN or 0: a silently wrong product).
 */
const checkRanges = (op: string, args: Unchecked): void => {
  const { m, k, n } = args;
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(k) && Number.isSafeInteger(n) && m >= 0 && k >= 0 && n >= 0)) {
    fail({
      _tag: "ValueError",
      op,
      arg: "m, k, n",
      detail: `sizes must be non-negative integers, got ${String(m)}, ${String(k)}, ${String(n)}`,
      fix: "pass the matrix sizes",
    });
  }
  checkRange(op, "out", args.out, args.outOffset, m * n);
  checkRange(op, "a", args.a, args.aOffset, m * k);
  checkRange(op, "b", args.b, args.bOffset, k * n);
};

/** One buffer of a kernel call: a typed array holding `len` elements from `off`. */
const checkRange = (op: string, arg: string, buf: unknown, off: number, len: number): void => {
  if (!isBuffer(buf)) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail:
        "expected a Float32Array, Float64Array, Int32Array or Uint8Array, " +
        `got ${buf === null ? "null" : typeof buf}`,
      fix: "pass typed arrays (a tensor's data)",
    });
  }
  if (!(Number.isSafeInteger(off) && off >= 0 && off + len <= buf.length)) {
    fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `range [${String(off)}, ${String(off + len)}) is outside the buffer of length ${buf.length}`,
      fix: "pass an offset and m, k, n that fit the buffer",
    });
  }
};

/** The arguments of `matmulInto`: a float32 or float64 product (transposes go in its options). */
export type MatmulIntoArgs = Omit<
  MatmulArgs<Float32Array | Float64Array, ReadonlyFloat32Array | ReadonlyFloat64Array>,
  "transA" | "transB"
>;

/**
 * `out[outOffset ..+ m·n] = op(a) · op(b)`, row-major, overwriting that range, where op(a) is the
 * m × k matrix at `a[aOffset..]` — or with `transA` the transpose of the k × m matrix stored
 * there — and op(b) is k × n — or with `transB` the transpose of the n × k matrix stored there.
 * So a backward pass computes `dA = dC · Bᵀ` and `dB = Aᵀ · dC` without materialising a
 * transpose. float32 follows the float32 contract of this file (same bits on every backend, and
 * the same bits as `matmulKernel` on an explicit transpose); float64 likewise matches
 * `matmulKernel` on the explicit transpose bit for bit. `out` must not overlap `a` or `b`. The
 * positional form `matmulInto(out, outOffset, a, aOffset, b, bOffset, m, k, n, options)` is
 * deprecated; the descriptor's fields are all required, and the transposes stay in `options`.
 * @throws TensorException (`ValueError`) for mixed buffer types or ranges outside a buffer.
 * @example
 * const out = new Float32Array(4);
 * const a = Float32Array.of(1, 2, 3, 4);
 * // [[1, 2], [3, 4]] · [[1, 2], [3, 4]]ᵀ
 * matmulInto({ out, outOffset: 0, a, aOffset: 0, b: a, bOffset: 0, m: 2, k: 2, n: 2 }, { transB: true });
 * // out: [5, 11, 11, 25]
 */
export function matmulInto(args: MatmulIntoArgs, options?: MatmulIntoOptions): void;
/** @deprecated Pass one `MatmulIntoArgs` object: `matmulInto({ out, outOffset, a, aOffset, … }, options)`. */
export function matmulInto(
  out: Float32Array | Float64Array,
  outOffset: number,
  a: ReadonlyFloat32Array | ReadonlyFloat64Array,
  aOffset: number,
  b: ReadonlyFloat32Array | ReadonlyFloat64Array,
  bOffset: number,
  m: number,
  k: number,
  n: number,
  options?: MatmulIntoOptions,
): void;
export function matmulInto(...params: unknown[]): void {
  const args = isBuffer(params[0]) ? positional(params) : descriptor("matmulInto", params[0], params[1]);
  const o = checkOptions("matmulInto", args.options === undefined ? {} : args.options, ["transA", "transB"]);
  const transA = checkFlag("matmulInto", "options.transA", o.transA) === true;
  const transB = checkFlag("matmulInto", "options.transB", o.transB) === true;
  checkRanges("matmulInto", args);
  const { out, a, b } = args;
  if (!(out instanceof Float32Array || out instanceof Float64Array))
    intoError("out", "out must be a Float32Array or a Float64Array", "use matmul for int32 and bool");
  const same = out instanceof Float32Array ? Float32Array : Float64Array;
  if (!(a instanceof same && b instanceof same))
    intoError("a, b", `out is a ${same.name} but an operand is not`, `pass ${same.name}s (convert with astype first)`);
  const product = {
    out,
    outOffset: args.outOffset,
    a,
    aOffset: args.aOffset,
    b,
    bOffset: args.bOffset,
    m: args.m,
    k: args.k,
    n: args.n,
    transA,
    transB,
  };
  if (out instanceof Float32Array) matmulF32(product as MatmulArgs<Float32Array>);
  else matmulF64(product as MatmulArgs<Float64Array>);
}

/**
 * The descriptor argument of `op` with its options, refusing anything but an object (its fields
 * are checked like the positional arguments, by `checkRanges`). No key check: every field is
 * required, so a misspelt one is missing and refused as such, and the optional flags live in
 * the options object, whose keys are checked.
 */
const descriptor = (op: string, args: unknown, options: unknown): Unchecked & { readonly options?: unknown } => {
  if (typeof args !== "object" || args === null)
    fail({
      _tag: "ValueError",
      op,
      arg: "args",
      detail: `expected one object { out, outOffset, a, aOffset, b, bOffset, m, k, n }, got ${describe(args)}`,
      fix: `pass the product's buffers, offsets and sizes as one object: ${op}({ out, outOffset: 0, a, … })`,
    });
  return options === undefined ? (args as Unchecked) : { ...(args as Unchecked), options };
};

const describe = (x: unknown): string => (x === null ? "null" : Array.isArray(x) ? "an array" : typeof x);

const shapeError = (arg: string, a: Shape, b: Shape, detail: string, fix: string): never =>
  fail({ _tag: "ShapeError", op: "matmul", arg, shapes: [a, b], detail, fix });

/**
 * Matrix product with NumPy `matmul` semantics. A 1-D `a` acts as a row `[1, k]` and a 1-D `b` as
 * a column `[k, 1]`, and that axis is removed from the result; higher ranks are stacks of matrices
 * whose leading (batch) axes broadcast. Dtypes promote (`int32` wraps on overflow; `bool @ bool`
 * is `bool`, true where any product is true).
 * @throws TensorException (`ShapeError`) for a scalar operand, inner sizes that differ
 * (`a.shape[-1]` vs `b.shape[-2]`), or batch axes that do not broadcast.
 * @example matmul(tensor([[1, 2], [3, 4]]), tensor([5, 6])).data // Float32Array [17, 39]
 */
export const matmul = (a: Tensor, b: Tensor): Tensor => {
  checkTensor("matmul", "a", a);
  checkTensor("matmul", "b", b);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra === 0 || rb === 0) {
    return shapeError(
      ra === 0 ? "a" : "b",
      a.shape,
      b.shape,
      "scalar operands are not allowed (matmul needs at least 1-D arrays)",
      "use multiply for scalars, or reshape to a 1-D or 2-D array",
    );
  }
  const m = ra === 1 ? 1 : a.shape[ra - 2]!;
  const k = a.shape[ra - 1]!;
  const kb = rb === 1 ? b.shape[0]! : b.shape[rb - 2]!;
  const n = rb === 1 ? 1 : b.shape[rb - 1]!;
  if (k !== kb) {
    return shapeError(
      "b",
      a.shape,
      b.shape,
      `inner dimensions differ: axis -1 of a has size ${k} ` +
        `but axis ${rb === 1 ? "0 of the 1-D b" : "-2 of b"} has size ${kb}; these axes must agree`,
      "make a.shape[-1] equal b.shape[-2] (transpose an operand, or swap the arguments)",
    );
  }
  const aBatch = a.shape.slice(0, Math.max(0, ra - 2));
  const bBatch = b.shape.slice(0, Math.max(0, rb - 2));
  let batch: Shape;
  try {
    batch = broadcastShapes("matmul", aBatch, bBatch);
  } catch (e) {
    if (!(e instanceof TensorException)) throw e;
    return shapeError(
      "b",
      a.shape,
      b.shape,
      `batch axes ${formatShape(aBatch)} of a and ${formatShape(bBatch)} of b ` +
        "do not broadcast (every axis but the last two)",
      "make each aligned batch axis equal or 1",
    );
  }
  const promoted = promoteTypes(a.dtype, b.dtype);
  const dtype = promoted === "bool" ? "int32" : promoted;
  const ad = astype(a, dtype).data;
  const bd = astype(b, dtype).data;
  // Batch index → matrix index in each operand; stride 0 repeats a broadcast operand's matrix.
  const aMat = viewOffsets(batch, broadcastStrides(aBatch, batch), 0);
  const bMat = viewOffsets(batch, broadcastStrides(bBatch, batch), 0);
  const out = allocate(dtype, aMat.length * m * n);
  for (let t = 0; t < aMat.length; t++) {
    runKernel({
      out,
      outOffset: t * m * n,
      a: ad,
      aOffset: aMat[t]! * m * k,
      b: bd,
      bOffset: bMat[t]! * k * n,
      m,
      k,
      n,
    });
  }
  const shape = [...batch, ...(ra === 1 ? [] : [m]), ...(rb === 1 ? [] : [n])];
  if (promoted !== "bool") return fromBuffer(dtype, shape, out);
  return astype(fromBuffer(dtype, shape, out), "bool");
};
