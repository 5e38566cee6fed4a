/**
 * @file The float64 and int32 matrix-product loop nests that `matmul.ts` dispatches to (float32
 * runs in `../wasm/`). Their arithmetic is described in `matmul.ts`.
 *
 * They take positional parameters on purpose, unlike the functions that call them, which take a
 * `MatmulArgs`: V8 compiles these loop nests 50–65% slower when their inputs are read from an
 * object (measured on a 1 × 64 × 64 float64 product, docs/prototypes/compiler-tables/README.md), so
 * the descriptor stops at the caller, which reads its fields once and passes them here.
 */
/** Block sizes over k and j; a 256×256 float64 block of `b` is 512 KiB, well inside L2. */
const KB = 256;
const JB = 256;

/**
 * float64, `b` not transposed. `a[i, p]` is `a[ao + i·ars + p·acs]` ((k, 1) for a row-major `a`,
 * (1, m) for a transposed one); the strides only appear outside the inner loop.
 */
export const kernelF64 = (
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
            out[o0 + j] = out[o0 + j]! + (x0 * b0 + y0 * b1 + z0 * b2 + w0 * b3);
            out[o1 + j] = out[o1 + j]! + (x1 * b0 + y1 * b1 + z1 * b2 + w1 * b3);
            out[o2 + j] = out[o2 + j]! + (x2 * b0 + y2 * b1 + z2 * b2 + w2 * b3);
            out[o3 + j] = out[o3 + j]! + (x3 * b0 + y3 * b1 + z3 * b2 + w3 * b3);
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
            out[o0 + j] = out[o0 + j]! + x0 * b0;
            out[o1 + j] = out[o1 + j]! + x1 * b0;
            out[o2 + j] = out[o2 + j]! + x2 * b0;
            out[o3 + j] = out[o3 + j]! + x3 * b0;
          }
        }
      }
      for (; i < m; i++) {
        const o0 = oo + i * n,
          a0 = ao + i * ars;
        for (let p = p0; p < p1; p++) {
          const x0 = a[a0 + p * acs]!,
            r0 = bo + p * n;
          for (let j = j0; j < j1; j++) out[o0 + j] = out[o0 + j]! + x0 * b[r0 + j]!;
        }
      }
    }
  }
};

/**
 * float64, `b` transposed (`b[p, j]` is `b[bo + j·k + p]`): dot products over unit-stride rows,
 * forming the same expression per element as `kernelF64` — in rows of full 4-row blocks, groups
 * of four products (k blocks of 256 keep groups aligned to multiples of 4) summed left to right
 * and then added, then the k mod 4 leftovers one by one; in the last m mod 4 rows, every product
 * one by one. Four outputs at a time share each `a` value; 32 rows of `b` (≤ L2) serve all rows.
 */
export const kernelF64Dots = (
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
  const grouped = m - (m % 4);
  const k4 = k - (k % 4);
  const [a1, a2, a3] = [acs, 2 * acs, 3 * acs];
  for (let j0 = 0; j0 < n; j0 += 32) {
    const j1 = Math.min(j0 + 32, n);
    for (let i = 0; i < m; i++) {
      const ai = ao + i * ars,
        o = oo + i * n;
      const g = i < grouped ? k4 : 0;
      let j = j0;
      for (; j + 4 <= j1; j += 4) {
        const r0 = bo + j * k,
          r1 = r0 + k,
          r2 = r1 + k,
          r3 = r2 + k;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        let p = 0;
        for (; p < g; p += 4) {
          const q = ai + p * acs;
          const x = a[q]!,
            y = a[q + a1]!,
            z = a[q + a2]!,
            w = a[q + a3]!;
          s0 = s0 + (x * b[r0 + p]! + y * b[r0 + p + 1]! + z * b[r0 + p + 2]! + w * b[r0 + p + 3]!);
          s1 = s1 + (x * b[r1 + p]! + y * b[r1 + p + 1]! + z * b[r1 + p + 2]! + w * b[r1 + p + 3]!);
          s2 = s2 + (x * b[r2 + p]! + y * b[r2 + p + 1]! + z * b[r2 + p + 2]! + w * b[r2 + p + 3]!);
          s3 = s3 + (x * b[r3 + p]! + y * b[r3 + p + 1]! + z * b[r3 + p + 2]! + w * b[r3 + p + 3]!);
        }
        for (; p < k; p++) {
          const x = a[ai + p * acs]!;
          s0 = s0 + x * b[r0 + p]!;
          s1 = s1 + x * b[r1 + p]!;
          s2 = s2 + x * b[r2 + p]!;
          s3 = s3 + x * b[r3 + p]!;
        }
        out[o + j] = s0;
        out[o + j + 1] = s1;
        out[o + j + 2] = s2;
        out[o + j + 3] = s3;
      }
      for (; j < j1; j++) {
        const r = bo + j * k;
        let s = 0;
        let p = 0;
        for (; p < g; p += 4) {
          const q = ai + p * acs;
          s =
            s +
            (a[q]! * b[r + p]! + a[q + a1]! * b[r + p + 1]! + a[q + a2]! * b[r + p + 2]! + a[q + a3]! * b[r + p + 3]!);
        }
        for (; p < k; p++) s = s + a[ai + p * acs]! * b[r + p]!;
        out[o + j] = s;
      }
    }
  }
};

/**
 * int32: `Math.imul` gives the exact low 32 bits of each product, and the Int32Array store wraps
 * the sum, so results match NumPy's int32 matmul bit for bit, overflow included.
 */
export const kernelI32 = (
  out: Int32Array,
  oo: number,
  a: Int32Array,
  ao: number,
  b: Int32Array,
  bo: number,
  m: number,
  k: number,
  n: number,
): void => {
  for (let i = 0; i < m; i++) {
    const o0 = oo + i * n,
      a0 = ao + i * k;
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p]!,
        r0 = bo + p * n;
      for (let j = 0; j < n; j++) out[o0 + j] = out[o0 + j]! + Math.imul(x0, b[r0 + j]!);
    }
  }
};
