/**
 * @file Matrix product with NumPy `matmul` semantics, and the one kernel that does its arithmetic.
 *
 * `matmul` only works out shapes, dtypes and batch offsets; every multiply-add happens in
 * `matmulKernel`, so a WebAssembly SIMD kernel can later replace that one function.
 *
 * Why the kernel looks the way it does (measured on V8, 512×512 float32, see bench/):
 * - i-k-j order: the innermost loop walks a row of `b` and a row of `out` with unit stride.
 * - 4×4 register blocking: four rows of `a` times four rows of `b` per inner loop, so each loaded
 *   `b` value feeds four outputs and each `out` value is loaded and stored once per four `k`
 *   steps. This is the step that matters (about 5× over a plain i-k-j loop).
 * - Blocking over k and j (256 × 256) keeps the working block of `b` in L2 for large matrices.
 * - One copy of the float loop per element type: V8 compiles a function that has seen both
 *   Float32Array and Float64Array into slower polymorphic code (measured about 1.5–2× slower), and
 *   closures made from one literal share that feedback, so the two copies are written out.
 * Products of two float32 values are exact in float64; sums of four products are formed in
 * float64 and rounded to float32 when added to `out`, so float32 accumulates like a
 * float32 GEMM with fused multiply-adds, slightly better than one rounding per product.
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { allocate, promoteTypes } from "../DType.js";
import { fail, formatShape, TensorException } from "../errors.js";
import { broadcastShapes, type Shape } from "../Shape.js";
import { astype, fromBuffer, type Tensor } from "../Tensor.js";
import { broadcastStrides, viewOffsets } from "./strided.js";

/** Block sizes over k and j; a 256×256 float64 block of `b` is 512 KiB, well inside L2. */
const KB = 256;
const JB = 256;

/* The float32 and float64 kernels below are the same text with different array types; keep them
 * identical (see the file comment for why they are not one function). */

const kernelF32 = (out: Float32Array, oo: number, a: Float32Array, ao: number, b: Float32Array, bo: number, m: number, k: number, n: number): void => {
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(p0 + KB, k);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(j0 + JB, n);
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const o0 = oo + i * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        const a0 = ao + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        let p = p0;
        for (; p + 4 <= p1; p += 4) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const y0 = a[a0 + p + 1]!, y1 = a[a1 + p + 1]!, y2 = a[a2 + p + 1]!, y3 = a[a3 + p + 1]!;
          const z0 = a[a0 + p + 2]!, z1 = a[a1 + p + 2]!, z2 = a[a2 + p + 2]!, z3 = a[a3 + p + 2]!;
          const w0 = a[a0 + p + 3]!, w1 = a[a1 + p + 3]!, w2 = a[a2 + p + 3]!, w3 = a[a3 + p + 3]!;
          const r0 = bo + p * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!, b1 = b[r1 + j]!, b2 = b[r2 + j]!, b3 = b[r3 + j]!;
            out[o0 + j] = out[o0 + j]! + (x0 * b0 + y0 * b1 + z0 * b2 + w0 * b3);
            out[o1 + j] = out[o1 + j]! + (x1 * b0 + y1 * b1 + z1 * b2 + w1 * b3);
            out[o2 + j] = out[o2 + j]! + (x2 * b0 + y2 * b1 + z2 * b2 + w2 * b3);
            out[o3 + j] = out[o3 + j]! + (x3 * b0 + y3 * b1 + z3 * b2 + w3 * b3);
          }
        }
        for (; p < p1; p++) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const r0 = bo + p * n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!;
            out[o0 + j] = out[o0 + j]! + x0 * b0;
            out[o1 + j] = out[o1 + j]! + x1 * b0;
            out[o2 + j] = out[o2 + j]! + x2 * b0;
            out[o3 + j] = out[o3 + j]! + x3 * b0;
          }
        }
      }
      for (; i < m; i++) {
        const o0 = oo + i * n, a0 = ao + i * k;
        for (let p = p0; p < p1; p++) {
          const x0 = a[a0 + p]!, r0 = bo + p * n;
          for (let j = j0; j < j1; j++) out[o0 + j] = out[o0 + j]! + x0 * b[r0 + j]!;
        }
      }
    }
  }
};

const kernelF64 = (out: Float64Array, oo: number, a: Float64Array, ao: number, b: Float64Array, bo: number, m: number, k: number, n: number): void => {
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(p0 + KB, k);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(j0 + JB, n);
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const o0 = oo + i * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        const a0 = ao + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        let p = p0;
        for (; p + 4 <= p1; p += 4) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const y0 = a[a0 + p + 1]!, y1 = a[a1 + p + 1]!, y2 = a[a2 + p + 1]!, y3 = a[a3 + p + 1]!;
          const z0 = a[a0 + p + 2]!, z1 = a[a1 + p + 2]!, z2 = a[a2 + p + 2]!, z3 = a[a3 + p + 2]!;
          const w0 = a[a0 + p + 3]!, w1 = a[a1 + p + 3]!, w2 = a[a2 + p + 3]!, w3 = a[a3 + p + 3]!;
          const r0 = bo + p * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!, b1 = b[r1 + j]!, b2 = b[r2 + j]!, b3 = b[r3 + j]!;
            out[o0 + j] = out[o0 + j]! + (x0 * b0 + y0 * b1 + z0 * b2 + w0 * b3);
            out[o1 + j] = out[o1 + j]! + (x1 * b0 + y1 * b1 + z1 * b2 + w1 * b3);
            out[o2 + j] = out[o2 + j]! + (x2 * b0 + y2 * b1 + z2 * b2 + w2 * b3);
            out[o3 + j] = out[o3 + j]! + (x3 * b0 + y3 * b1 + z3 * b2 + w3 * b3);
          }
        }
        for (; p < p1; p++) {
          const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
          const r0 = bo + p * n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!;
            out[o0 + j] = out[o0 + j]! + x0 * b0;
            out[o1 + j] = out[o1 + j]! + x1 * b0;
            out[o2 + j] = out[o2 + j]! + x2 * b0;
            out[o3 + j] = out[o3 + j]! + x3 * b0;
          }
        }
      }
      for (; i < m; i++) {
        const o0 = oo + i * n, a0 = ao + i * k;
        for (let p = p0; p < p1; p++) {
          const x0 = a[a0 + p]!, r0 = bo + p * n;
          for (let j = j0; j < j1; j++) out[o0 + j] = out[o0 + j]! + x0 * b[r0 + j]!;
        }
      }
    }
  }
};

/** int32: `Math.imul` gives the exact low 32 bits of each product, and the Int32Array store wraps
 * the sum, so results match NumPy's int32 matmul bit for bit, overflow included. */
const kernelI32 = (out: Int32Array, oo: number, a: Int32Array, ao: number, b: Int32Array, bo: number, m: number, k: number, n: number): void => {
  for (let i = 0; i < m; i++) {
    const o0 = oo + i * n, a0 = ao + i * k;
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p]!, r0 = bo + p * n;
      for (let j = 0; j < n; j++) out[o0 + j] = out[o0 + j]! + Math.imul(x0, b[r0 + j]!);
    }
  }
};

/**
 * Writes the `m × n` product of the row-major `m × k` matrix at `a[aOffset..]` and the `k × n`
 * matrix at `b[bOffset..]` into `out[outOffset..]` (overwriting it). All three buffers must have
 * the same element type; `bool` is not accepted (matmul computes it in int32). Every number
 * `matmul` computes goes through here, so this is the function to replace with a faster one.
 * @example
 * const out = new Float32Array(1);
 * matmulKernel(out, 0, Float32Array.of(1, 2), 0, Float32Array.of(3, 4), 0, 1, 2, 1); // out [11]
 */
export const matmulKernel = (
  out: WritableTypedArray,
  outOffset: number,
  a: ReadonlyTypedArray,
  aOffset: number,
  b: ReadonlyTypedArray,
  bOffset: number,
  m: number,
  k: number,
  n: number,
): void => {
  out.fill(0, outOffset, outOffset + m * n);
  // The casts only restate what the instanceof test on `out` and the precondition guarantee.
  if (out instanceof Float32Array) kernelF32(out, outOffset, a as Float32Array, aOffset, b as Float32Array, bOffset, m, k, n);
  else if (out instanceof Float64Array) kernelF64(out, outOffset, a as Float64Array, aOffset, b as Float64Array, bOffset, m, k, n);
  else if (out instanceof Int32Array) kernelI32(out, outOffset, a as Int32Array, aOffset, b as Int32Array, bOffset, m, k, n);
  else {
    fail({
      _tag: "DTypeError",
      op: "matmulKernel",
      arg: "out",
      detail: "bool buffers are not supported by the kernel",
      fix: "compute in int32 and convert (matmul does this)",
    });
  }
};

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
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra === 0 || rb === 0) {
    return shapeError(ra === 0 ? "a" : "b", a.shape, b.shape, "scalar operands are not allowed (matmul needs at least 1-D arrays)", "use multiply for scalars, or reshape to a 1-D or 2-D array");
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
      `inner dimensions differ: axis -1 of a has size ${k} but axis ${rb === 1 ? "0 of the 1-D b" : "-2 of b"} has size ${kb}; these axes must agree`,
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
      `batch axes ${formatShape(aBatch)} of a and ${formatShape(bBatch)} of b do not broadcast (every axis but the last two)`,
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
    matmulKernel(out, t * m * n, ad, aMat[t]! * m * k, bd, bMat[t]! * k * n, m, k, n);
  }
  const shape = [...batch, ...(ra === 1 ? [] : [m]), ...(rb === 1 ? [] : [n])];
  if (promoted !== "bool") return fromBuffer(dtype, shape, out);
  return astype(fromBuffer(dtype, shape, out), "bool");
};
