/**
 * @file The pure-JS float32 matrix product: same results as the WebAssembly kernel, bit for bit.
 *
 * Arithmetic contract (see `matmulWasm.ts`): every output element starts at +0 and adds its k
 * products one at a time in increasing k, as `acc = f32(acc + f32(a · b))`. Here that is
 * `Math.fround` around every product and every sum; the products and sums of float32 values are
 * formed exactly enough in float64 that one rounding gives the float32 result. Loop orders and
 * blocking below only decide when each element gets its next product, never in which order.
 *
 * It runs wherever WebAssembly SIMD does not (old engines, or browsers refusing to compile
 * synchronously), and for products too small to repay the WebAssembly call's copies.
 * (NaN payloads are the one thing not pinned down: both produce NaN at the same places.)
 */

import type { MatmulArgs } from "../kernels/matmulArgs.js";

const fr = Math.fround;
/** Cache blocks over k and j, as in the float64 kernel (a 256 × 256 float32 block is 256 KiB). */
const KB = 256;
const JB = 256;

/**
 * `b` not transposed (`nn` and `tn`): i-k-j order, four rows of `out` times four rows of `b` per
 * inner loop, so each loaded `b` value feeds four outputs. `a[i, p]` is `a[ao + i·ars + p·acs]`.
 * Positional on purpose, like the loop nests of `../kernels/matmulLoops.ts` (its file comment says why).
 */
const kernelRows = (
  out: Float32Array,
  oo: number,
  a: Float32Array,
  ao: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bo: number,
  m: number,
  k: number,
  n: number,
): void => {
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(p0 + KB, k);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(j0 + JB, n);
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const o0 = oo + i * n,
          o1 = o0 + n,
          o2 = o1 + n,
          o3 = o2 + n;
        const a0 = ao + i * ars,
          a1 = a0 + ars,
          a2 = a1 + ars,
          a3 = a2 + ars;
        let p = p0;
        for (; p + 4 <= p1; p += 4) {
          const q0 = p * acs,
            q1 = q0 + acs,
            q2 = q1 + acs,
            q3 = q2 + acs;
          const x0 = a[a0 + q0]!,
            x1 = a[a1 + q0]!,
            x2 = a[a2 + q0]!,
            x3 = a[a3 + q0]!;
          const y0 = a[a0 + q1]!,
            y1 = a[a1 + q1]!,
            y2 = a[a2 + q1]!,
            y3 = a[a3 + q1]!;
          const z0 = a[a0 + q2]!,
            z1 = a[a1 + q2]!,
            z2 = a[a2 + q2]!,
            z3 = a[a3 + q2]!;
          const w0 = a[a0 + q3]!,
            w1 = a[a1 + q3]!,
            w2 = a[a2 + q3]!,
            w3 = a[a3 + q3]!;
          const r0 = bo + p * n,
            r1 = r0 + n,
            r2 = r1 + n,
            r3 = r2 + n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!,
              b1 = b[r1 + j]!,
              b2 = b[r2 + j]!,
              b3 = b[r3 + j]!;
            out[o0 + j] = fr(fr(fr(fr(out[o0 + j]! + fr(x0 * b0)) + fr(y0 * b1)) + fr(z0 * b2)) + fr(w0 * b3));
            out[o1 + j] = fr(fr(fr(fr(out[o1 + j]! + fr(x1 * b0)) + fr(y1 * b1)) + fr(z1 * b2)) + fr(w1 * b3));
            out[o2 + j] = fr(fr(fr(fr(out[o2 + j]! + fr(x2 * b0)) + fr(y2 * b1)) + fr(z2 * b2)) + fr(w2 * b3));
            out[o3 + j] = fr(fr(fr(fr(out[o3 + j]! + fr(x3 * b0)) + fr(y3 * b1)) + fr(z3 * b2)) + fr(w3 * b3));
          }
        }
        for (; p < p1; p++) {
          const q = p * acs;
          const x0 = a[a0 + q]!,
            x1 = a[a1 + q]!,
            x2 = a[a2 + q]!,
            x3 = a[a3 + q]!;
          const r0 = bo + p * n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!;
            out[o0 + j] = out[o0 + j]! + fr(x0 * b0);
            out[o1 + j] = out[o1 + j]! + fr(x1 * b0);
            out[o2 + j] = out[o2 + j]! + fr(x2 * b0);
            out[o3 + j] = out[o3 + j]! + fr(x3 * b0);
          }
        }
      }
      // The Float32Array store is the rounding of the sum here.
      for (; i < m; i++) {
        const o0 = oo + i * n,
          a0 = ao + i * ars;
        for (let p = p0; p < p1; p++) {
          const x0 = a[a0 + p * acs]!,
            r0 = bo + p * n;
          for (let j = j0; j < j1; j++) out[o0 + j] = out[o0 + j]! + fr(x0 * b[r0 + j]!);
        }
      }
    }
  }
};

/**
 * `b` transposed (`nt` and `tt`): `b[p, j]` is `b[bo + j·k + p]`, so each output is a dot product
 * of two unit-stride runs when `a` is not transposed. Four outputs of a row at a time share the
 * loaded `a` value; partial sums cross k blocks through `out` (already float32, so no change).
 * Positional on purpose, like the loop nests of `../kernels/matmulLoops.ts` (its file comment says why).
 */
const kernelDots = (
  out: Float32Array,
  oo: number,
  a: Float32Array,
  ao: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bo: number,
  m: number,
  k: number,
  n: number,
): void => {
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(p0 + KB, k);
    for (let i = 0; i < m; i++) {
      const a0 = ao + i * ars,
        o0 = oo + i * n;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const r0 = bo + j * k,
          r1 = r0 + k,
          r2 = r1 + k,
          r3 = r2 + k;
        let c0 = out[o0 + j]!,
          c1 = out[o0 + j + 1]!,
          c2 = out[o0 + j + 2]!,
          c3 = out[o0 + j + 3]!;
        for (let p = p0; p < p1; p++) {
          const x = a[a0 + p * acs]!;
          c0 = fr(c0 + fr(x * b[r0 + p]!));
          c1 = fr(c1 + fr(x * b[r1 + p]!));
          c2 = fr(c2 + fr(x * b[r2 + p]!));
          c3 = fr(c3 + fr(x * b[r3 + p]!));
        }
        out[o0 + j] = c0;
        out[o0 + j + 1] = c1;
        out[o0 + j + 2] = c2;
        out[o0 + j + 3] = c3;
      }
      for (; j < n; j++) {
        const r0 = bo + j * k;
        let c0 = out[o0 + j]!;
        for (let p = p0; p < p1; p++) c0 = fr(c0 + fr(a[a0 + p * acs]! * b[r0 + p]!));
        out[o0 + j] = c0;
      }
    }
  }
};

/**
 * `out[outOffset ..+ m·n] = op(a) · op(b)` in float32 under the contract above (see `MatmulArgs`
 * for the layouts).
 * @example
 * const out = new Float32Array(1);
 * const [a, b] = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
 * matmulF32Js({ out, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 1, k: 2, n: 1 }); // out [11]
 */
export const matmulF32Js = (args: MatmulArgs<Float32Array>): void => {
  const { out, outOffset: oo, a, aOffset: ao, b, bOffset: bo, m, k, n } = args;
  out.fill(0, oo, oo + m * n);
  // a[i, p] is a[ao + i·ars + p·acs]: (k, 1) for a row-major a, (1, m) for a transposed one.
  const [ars, acs] = args.transA === true ? [1, m] : [k, 1];
  if (args.transB === true) kernelDots(out, oo, a, ao, ars, acs, b, bo, m, k, n);
  else kernelRows(out, oo, a, ao, ars, acs, b, bo, m, k, n);
};
