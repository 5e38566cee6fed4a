/**
 * @file The fixed helpers generated code calls: the integer indexing kernels (take, gather and
 * their scatter-adds) and the cumulative kernels writing into planned buffers, and the small glue
 * that wraps buffers as tensors for outputs and fallback calls.
 *
 * The indexing kernels return false on an out-of-range index without writing anything; the
 * generated code then calls the primitive's impl, which throws the tensor package's own error.
 *
 * Their parameters are positional, not descriptor objects (issue 15 made those of the tensor
 * kernels' entry points): only generated code calls them, where each argument is named by the
 * emitting code (`nodeEmit.ts`), and V8 runs their loops markedly slower when the inputs come
 * from an object (docs/prototypes/compiler-tables/README.md), on top of an object per call.
 */
import * as T from "@rewind/tensor";
import type { DType, Tensor } from "@rewind/tensor";
import { cumulativeInto, linearScanInto, type CumulativeOp } from "@rewind/tensor/internal/codegen";

type Buf = T.WritableTypedArray;

let indexScratch = new Int32Array(0);

/** Resolves and checks indices as the tensor kernels do (negative counts from the end). */
const resolved = (idx: Buf, io: number, n: number, size: number): Int32Array | undefined => {
  if (indexScratch.length < n) indexScratch = new Int32Array(n);
  const out = indexScratch;
  for (let j = 0; j < n; j++) {
    const i = idx[io + j]!;
    if (i < -size || i >= size) return undefined;
    out[j] = i < 0 ? i + size : i;
  }
  return out;
};

/**
 * np.take along an axis laid out as `outer × size × inner`, into `out[oo..]`.
 * @example take(out, 0, x, 0, Int32Array.of(1), 0, 1, 1, 3, 1) // true
 */
export const take = (
  out: Buf,
  oo: number,
  x: Buf,
  xo: number,
  idx: Buf,
  io: number,
  m: number,
  outer: number,
  size: number,
  inner: number,
): boolean => {
  const r = resolved(idx, io, m, size);
  if (r === undefined) return false;
  let pos = oo;
  // Long rows (an embedding's, a projected table's) move as block copies; short ones element-wise,
  // where a subarray per row would cost more than it copies.
  const blocks = inner >= TAKE_BLOCK && out.constructor === x.constructor;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const base = xo + (o * size + r[j]!) * inner;
      if (blocks) {
        (out as Float32Array).set((x as Float32Array).subarray(base, base + inner), pos);
        pos += inner;
      } else for (let k = 0; k < inner; k++) out[pos++] = x[base + k]!;
    }
  }
  return true;
};

/**
 * Row length from which `take` copies rows with `TypedArray.set`: measured here on float32 rows
 * gathered from an 89-row table, the element loop and `set` cost the same at 16 floats a row,
 * `set` takes half the time at 32 and a quarter at 128.
 */
const TAKE_BLOCK = 32;

/**
 * x plus values scatter-added where `take` reads (repeats accumulate, rounding per add as the kernel).
 * @example addAt(out, 0, x, 0, Int32Array.of(0, 0), 0, v, 0, 2, 1, 3, 1) // true
 */
export const addAt = (
  out: Buf,
  oo: number,
  x: Buf,
  xo: number,
  idx: Buf,
  io: number,
  v: Buf,
  vo: number,
  m: number,
  outer: number,
  size: number,
  inner: number,
): boolean => {
  const r = resolved(idx, io, m, size);
  if (r === undefined) return false;
  const n = outer * size * inner;
  for (let i = 0; i < n; i++) out[oo + i] = x[xo + i]!;
  let pos = vo;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const base = oo + (o * size + r[j]!) * inner;
      for (let k = 0; k < inner; k++) out[base + k] = out[base + k]! + v[pos++]!;
    }
  }
  return true;
};

/**
 * take_along_axis: element i reads `x[base[i] + idx[which[i]] · axisStride]`.
 * @example gather(out, 0, x, 0, idx, 0, 2, base, which, 1, 3) // true
 */
export const gather = (
  out: Buf,
  oo: number,
  x: Buf,
  xo: number,
  idx: Buf,
  io: number,
  nIdx: number,
  base: Int32Array,
  which: Int32Array,
  axisStride: number,
  size: number,
): boolean => {
  const r = resolved(idx, io, nIdx, size);
  if (r === undefined) return false;
  for (let i = 0; i < base.length; i++) out[oo + i] = x[xo + base[i]! + r[which[i]!]! * axisStride]!;
  return true;
};

/**
 * x plus values added where `gather` reads (the transpose of gather).
 * @example addAlongAxis(out, 0, x, 0, idx, 0, 2, v, 0, base, which, 1, 3, 6) // true
 */
export const addAlongAxis = (
  out: Buf,
  oo: number,
  x: Buf,
  xo: number,
  idx: Buf,
  io: number,
  nIdx: number,
  v: Buf,
  vo: number,
  base: Int32Array,
  which: Int32Array,
  axisStride: number,
  size: number,
  n: number,
): boolean => {
  const r = resolved(idx, io, nIdx, size);
  if (r === undefined) return false;
  for (let i = 0; i < n; i++) out[oo + i] = x[xo + i]!;
  for (let i = 0; i < base.length; i++) {
    const p = oo + base[i]! + r[which[i]!]! * axisStride;
    out[p] = out[p]! + v[vo + i]!;
  }
  return true;
};

/** A value's dtype and shape, for wrapping its buffer as a tensor. */
export interface Desc {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
}

/**
 * The tensor of `size` elements at `buf[off..]` (a view, for handing to a primitive's impl).
 * @example tensorAt({ dtype: "float32", shape: [2], size: 2 }, buf, 4).data.length // 2
 */
export const tensorAt = (d: Desc, buf: Buf, off: number): Tensor =>
  T.fromBuffer(d.dtype, d.shape, off === 0 && buf.length === d.size ? buf : buf.subarray(off, off + d.size));

/**
 * A fresh output tensor around a buffer nobody else holds.
 * @example wrap({ dtype: "float64", shape: [1], size: 1 }, Float64Array.of(3)).shape // [1]
 */
export const wrap = (d: Desc, buf: Buf): Tensor => T.fromBuffer(d.dtype, d.shape, buf);

/**
 * A primitive impl's outputs, copied where they share memory with an input (an impl may return
 * its input or a view of it, and inputs live in planned buffers that later steps overwrite).
 * @example ownedOutputs(prim.impl(ins, params), ins)
 */
export const ownedOutputs = (outs: readonly Tensor[], ins: readonly Tensor[]): Tensor[] =>
  outs.map((t) =>
    ins.some((i) => i.data.buffer === t.data.buffer) ? T.fromBuffer(t.dtype, t.shape, t.data.slice()) : t,
  );

/**
 * A copy of a tensor in a fresh buffer (an output the caller owns), keeping its dtype.
 * @example freshTensor(t).data !== t.data // true
 */
export const freshTensor = (t: Tensor): Tensor => T.fromBuffer(t.dtype, t.shape, t.data.slice());

/**
 * Copies n elements.
 * @example copy(dst, 0, src, 2, 3)
 */
export const copy = (dst: Buf, doff: number, src: Buf, soff: number, n: number): void => {
  for (let i = 0; i < n; i++) dst[doff + i] = src[soff + i]!;
};

/** A cumulative node as compiled: the op, its operands' shape, axis, direction and result dtype. */
export interface CumulativeDesc {
  readonly op: CumulativeOp | "linearScan";
  readonly shape: readonly number[];
  readonly size: number;
  readonly axis: number;
  readonly reverse: boolean;
  readonly dtype: DType;
}

/**
 * A cumulative op (or linearScan, with its second operand `y`) of `x[xo..]` into `out[oo..]`, by
 * the tensor package's own kernels, so the bits are the eager op's.
 * @example cumulative({ op: "cumsum", shape: [3], size: 3, axis: 0, reverse: false, dtype: "float32" }, out, 0, x, 0)
 */
export const cumulative = (d: CumulativeDesc, out: Buf, oo: number, x: Buf, xo: number, y?: Buf, yo = 0): void => {
  const dst = out.subarray(oo, oo + d.size);
  const a = x.subarray(xo, xo + d.size);
  if (d.op === "linearScan") linearScanInto(a, y!.subarray(yo, yo + d.size), dst, d.shape, d.axis, d.reverse);
  else cumulativeInto(d.op, a, dst, d.shape, d.axis, d.reverse, d.dtype);
};
