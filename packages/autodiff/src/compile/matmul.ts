/**
 * @file Matmul into planned buffers: the tensor package's kernels (`productInto`: `matmulInto`
 * without its per-call checks, which the compiler settled when it planned the buffers), plus two
 * float64 shapes where a different loop computes the same expression faster.
 *
 * The float64 tensor kernel (kernels/matmul.ts) forms, per output element, starting from +0:
 * in the rows of full 4-row blocks, sums of four consecutive products added in turn, then the
 * k mod 4 leftover products one by one; in the last m mod 4 rows, every product one by one. Both
 * paths below keep exactly that expression (JavaScript never fuses or reorders float adds):
 * - m < 4 (a vector times a matrix, common in batch-1 RNNs): every row is a one-by-one row; the
 *   kernel re-reads and re-writes `out` for every product, here four products are added to a
 *   register in the same order before one store (about 2× faster).
 * - transB with m ≥ 4: the kernel's per-element dot products are slow; transposing `b` into
 *   scratch and running the blocked kernel is what the interpreter computes (an explicit
 *   transpose, then the kernel), bit for bit.
 * float32 and int32 go to the tensor kernels unchanged.
 */
import type * as T from "@rewind/tensor";
import { productInto } from "@rewind/tensor/internal/codegen";

type Buf = T.WritableTypedArray;

const scratch = new Map<string, Buf>();
/** A reusable buffer of at least n elements of `like`'s type (grown when needed, then reused). */
const scratchOf = (like: Buf, n: number, slot: number): Buf => {
  const key = `${like.constructor.name}${slot}`;
  let s = scratch.get(key);
  if (s === undefined || s.length < n) {
    s = new (like.constructor as new (n: number) => Buf)(n);
    scratch.set(key, s);
  }
  return s;
};

/** Copies the `rows × cols` matrix at `src[so..]` transposed into scratch slot `slot`. */
const transposed = (src: Buf, so: number, rows: number, cols: number, slot: number): Buf => {
  const out = scratchOf(src, rows * cols, slot);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[so + i * cols + j]!;
  return out;
};

/** float64 rows whose products are added one by one: `out[i, j] = ((0 + a_i0·b_0j) + a_i1·b_1j) + …`. */
const sequentialRows = (
  out: Float64Array,
  oo: number,
  a: Float64Array,
  ao: number,
  ars: number,
  acs: number,
  b: Float64Array,
  bo: number,
  m: number,
  k: number,
  n: number,
): void => {
  for (let i = 0; i < m; i++) {
    const o = oo + i * n;
    const ar = ao + i * ars;
    out.fill(0, o, o + n);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const x0 = a[ar + p * acs]!,
        x1 = a[ar + (p + 1) * acs]!,
        x2 = a[ar + (p + 2) * acs]!,
        x3 = a[ar + (p + 3) * acs]!;
      const r0 = bo + p * n,
        r1 = r0 + n,
        r2 = r1 + n,
        r3 = r2 + n;
      for (let j = 0; j < n; j++) {
        let s = out[o + j]!;
        s = s + x0 * b[r0 + j]!;
        s = s + x1 * b[r1 + j]!;
        s = s + x2 * b[r2 + j]!;
        s = s + x3 * b[r3 + j]!;
        out[o + j] = s;
      }
    }
    for (; p < k; p++) {
      const x = a[ar + p * acs]!;
      const r = bo + p * n;
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + x * b[r + j]!;
    }
  }
};

/** Products with fewer multiply-adds than this keep `transB` (the transpose would not pay). */
const TRANSPOSE_MIN_MACS = 4096;

/**
 * `out[oo..] = op(A) · op(B)` for an `m × k` op(A) and `k × n` op(B); a transposed operand is
 * stored as its transpose (`k × m`, `n × k`). Same bits as `matmulInto`/`matmulKernel`. Positional
 * (not a `MatmulArgs`) because generated code calls it once per product, per step inside scans,
 * and an object per call measurably slows the small products of batch-1 RNNs
 * (docs/prototypes/compiler-tables/README.md); the same holds for `sequentialRows`' loops.
 * @example mm(out, 0, a, 0, b, 0, 2, 3, 4, false, true)
 */
export const mm = (
  out: Buf,
  oo: number,
  a: Buf,
  ao: number,
  b: Buf,
  bo: number,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
): void => {
  // The batch-1 float64 rows first, and everything else out of line, so this stays small.
  if (out instanceof Float64Array && m < 4 && !tB)
    sequentialRows(out, oo, a as Float64Array, ao, tA ? 1 : k, tA ? m : 1, b as Float64Array, bo, m, k, n);
  else viaKernels({ out, outOffset: oo, a, aOffset: ao, b, bOffset: bo, m, k, n, transA: tA, transB: tB });
};

/** The products `mm` hands to the tensor package's kernels (an int32 or transB one through scratch). */
const viaKernels = (args: T.MatmulArgs<Buf>): void => {
  const { out, outOffset: oo, a, aOffset: ao, b, bOffset: bo, m, k, n } = args;
  const tA = args.transA === true;
  const tB = args.transB === true;
  if (out instanceof Float64Array && m >= 4 && tB && m * k * n >= TRANSPOSE_MIN_MACS) {
    const bt = transposed(b, bo, n, k, 1) as Float64Array;
    productInto({ out, outOffset: oo, a: a as Float64Array, aOffset: ao, b: bt, bOffset: 0, m, k, n, transA: tA });
  } else if (out instanceof Int32Array) {
    const A = (tA ? transposed(a, ao, k, m, 0) : a) as Int32Array;
    const B = (tB ? transposed(b, bo, n, k, 1) : b) as Int32Array;
    productInto({ out, outOffset: oo, a: A, aOffset: tA ? 0 : ao, b: B, bOffset: tB ? 0 : bo, m, k, n });
  } else productInto(args as T.MatmulArgs);
};
