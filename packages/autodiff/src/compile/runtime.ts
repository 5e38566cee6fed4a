/**
 * @file The fixed helpers generated code calls: the integer indexing kernels (take, gather and
 * their scatter-adds) writing into planned buffers, and the small glue that wraps buffers as
 * tensors for outputs and fallback calls.
 *
 * The indexing kernels return false on an out-of-range index without writing anything; the
 * generated code then calls the primitive's impl, which throws the tensor package's own error.
 */
import * as T from "@rewind/tensor";
import type { DType, Tensor } from "@rewind/tensor";

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
 * The operands of an indexing helper: buffers with the index of their first element. The
 * generated code passes one object literal per call (a few words; the helper copies whole rows).
 */
export interface IndexOperands {
  /** The output buffer (written from `outOffset`). */
  readonly out: Buf;
  readonly outOffset: number;
  /** The indexed operand x (contiguous). */
  readonly x: Buf;
  readonly xOffset: number;
  /** The int32 indices (contiguous). */
  readonly indices: Buf;
  readonly indicesOffset: number;
  /** How many indices there are. */
  readonly count: number;
}

/** take and addAt: x laid out as `outer × size × inner`, indices picking along `size`. */
export interface TakeArgs extends IndexOperands {
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
}

/** addAt's and addAlongAxis's values, added where the forward op reads. */
export interface Values {
  readonly values: Buf;
  readonly valuesOffset: number;
}

/** gather: output element i reads `x[base[i] + idx[which[i]] · axisStride]` (axis of length `size`). */
export interface GatherArgs extends IndexOperands {
  readonly base: Int32Array;
  readonly which: Int32Array;
  readonly axisStride: number;
  readonly size: number;
}

/**
 * np.take along an axis laid out as `outer × size × inner`, into `out[outOffset..]`.
 * @example
 * const [out, x] = [new Float32Array(1), Float32Array.of(1, 2, 3)];
 * const indices = Int32Array.of(1);
 * take({ out, outOffset: 0, x, xOffset: 0, indices, indicesOffset: 0, count: 1, outer: 1, size: 3, inner: 1 });
 * // out [2]
 */
export const take = (args: TakeArgs): boolean => {
  const { out, x, outer, size, inner, count: m } = args;
  const r = resolved(args.indices, args.indicesOffset, m, size);
  if (r === undefined) return false;
  let pos = args.outOffset;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const base = args.xOffset + (o * size + r[j]!) * inner;
      for (let k = 0; k < inner; k++) out[pos++] = x[base + k]!;
    }
  }
  return true;
};

/**
 * x plus values scatter-added where `take` reads (repeats accumulate, rounding per add as the kernel).
 * @example addAt({ ...takeArgs, values: Float32Array.of(1, 1), valuesOffset: 0 }) // true
 */
export const addAt = (args: TakeArgs & Values): boolean => {
  const { out, x, values: v, outer, size, inner, count: m } = args;
  const oo = args.outOffset;
  const r = resolved(args.indices, args.indicesOffset, m, size);
  if (r === undefined) return false;
  const n = outer * size * inner;
  for (let i = 0; i < n; i++) out[oo + i] = x[args.xOffset + i]!;
  let pos = args.valuesOffset;
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
 * @example
 * const args = { out, outOffset: 0, x, xOffset: 0, indices, indicesOffset: 0, count: 2 };
 * gather({ ...args, base, which, axisStride: 1, size: 3 }) // true
 */
export const gather = (args: GatherArgs): boolean => {
  const { out, x, base, which, axisStride } = args;
  const r = resolved(args.indices, args.indicesOffset, args.count, args.size);
  if (r === undefined) return false;
  const oo = args.outOffset;
  const xo = args.xOffset;
  for (let i = 0; i < base.length; i++) out[oo + i] = x[xo + base[i]! + r[which[i]!]! * axisStride]!;
  return true;
};

/**
 * x (`n` elements) plus values added where `gather` reads (the transpose of gather).
 * @example addAlongAxis({ ...gatherArgs, values, valuesOffset: 0, n: 6 }) // true
 */
export const addAlongAxis = (args: GatherArgs & Values & { readonly n: number }): boolean => {
  const { out, x, values: v, base, which, axisStride, n } = args;
  const r = resolved(args.indices, args.indicesOffset, args.count, args.size);
  if (r === undefined) return false;
  const oo = args.outOffset;
  for (let i = 0; i < n; i++) out[oo + i] = x[args.xOffset + i]!;
  for (let i = 0; i < base.length; i++) {
    const p = oo + base[i]! + r[which[i]!]! * axisStride;
    out[p] = out[p]! + v[args.valuesOffset + i]!;
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
