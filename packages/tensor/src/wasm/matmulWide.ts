/**
 * @file The compiler's extra matmul kernels: `wide_R` computes the tiles of P adjacent panels at
 * once for the stripes of 1 and 2 rows, which `micro_R` computes one panel at a time.
 *
 * A stripe of 1 or 2 rows keeps only 2 or 4 accumulators in `micro_R`, too few to hide the
 * latency of each add: `micro_2` measured as slow as `micro_3`, and a 32-row product (6 stripes of
 * 5 rows and one of 2) spent 11% of its time on its last 2 rows. Over 4 or 2 panels the wide
 * kernels keep 8 accumulators in flight: packed products of 1 and 2 rows take 0.65–0.71× the time,
 * of 16 and 32 rows 0.96× (k 128 × n 512 and 512 × 128, both kernels timed in one process).
 * Each output element still starts at +0 and adds its products in k order, so the bits are
 * `micro_R`'s (matmulWasm.ts's contract).
 *
 * Only runners that `jit` compiles use them (`arenaKernels`): the eager kernels do without, so
 * the code generating them stays out of every browser bundle that does not compile. For the same
 * reason `wideKernel` repeats `micro_R`'s frame (row addresses, accumulators, k loop, stores)
 * rather than sharing it: the shared frame measured ~30 gzipped bytes more in the eager bundle,
 * which sits at its 70 kB gate.
 */
import { FunctionBuilder, i32 as I32, v128 as V128, type ValType } from "./emitter.js";
import type { KernelShape } from "./matmulWasm.js";

/**
 * Panels a wide kernel takes at once, by stripe rows: as many as fit 8 accumulators (3 rows × 2
 * panels would need 16 vector registers where V8 allocates 15, and measured 1.6× slower).
 */
export const WIDE_PANELS: Readonly<Record<number, number>> = { 1: 4, 2: 2 };

/**
 * `wide_R(a, b, panelStep, ldb, c, ldc, kc, first)`: `micro_R` over P = WIDE_PANELS[R] adjacent
 * tiles: the j-th tile's block of b at b + j·panelStep (rows ldb bytes apart), its columns at
 * c + 4·NR·j; kc ≥ 1, first as in `micro_R` (start from zero, else from the sums stored in c).
 */
const wideKernel = (s: KernelShape, rows: number, panels: number): FunctionBuilder => {
  const f = new FunctionBuilder(`wide_${rows}`, Array<ValType>(8).fill(I32), []);
  const [a, b, panelStep, ldb, c, ldc, kc, first] = [0, 1, 2, 3, 4, 5, 6, 7];
  const vectors = panels * s.nv;
  const acc = Array.from({ length: rows }, () => Array.from({ length: vectors }, () => f.local(V128)));
  const bAt = Array.from({ length: panels }, (_, j) => (j === 0 ? b : f.local(I32)));
  const row = Array.from({ length: rows }, (_, r) => (r === 0 ? c : f.local(I32)));
  const bv = f.local(V128);
  const splat = Array.from({ length: rows }, () => f.local(V128));
  const aEnd = f.local(I32);
  for (let j = 1; j < panels; j++) f.get(b).get(panelStep).i32Const(j).op("i32Mul").op("i32Add").set(bAt[j]!);
  for (let r = 1; r < rows; r++) f.get(c).get(ldc).i32Const(r).op("i32Mul").op("i32Add").set(row[r]!);
  f.get(first).if();
  for (const accRow of acc) for (const x of accRow) f.v128Zero().set(x);
  f.op("else");
  acc.forEach((accRow, r) =>
    accRow.forEach((x, v) =>
      f
        .get(row[r]!)
        .v128Load(16 * v)
        .set(x),
    ),
  );
  f.op("end");
  f.get(a)
    .get(kc)
    .i32Const(4 * rows)
    .op("i32Mul")
    .op("i32Add")
    .set(aEnd);
  // The zero-trip guard is redundant (kc ≥ 1) but keeps TurboFan from hoisting loads (see micro_R).
  f.block().get(a).get(aEnd).op("i32GeU").brIf(0).loop();
  // Every row's splat stays in a register and b comes one vector at a time (NR·P vectors of b
  // would not fit beside the accumulators, as micro_R keeps its NR).
  splat.forEach((x, r) =>
    f
      .get(a)
      .v128Load32Splat(4 * r)
      .set(x),
  );
  for (let v = 0; v < vectors; v++) {
    f.get(bAt[Math.floor(v / s.nv)]!)
      .v128Load(16 * (v % s.nv))
      .set(bv);
    for (let r = 0; r < rows; r++)
      f.get(acc[r]![v]!).get(splat[r]!).get(bv).simd("f32x4Mul").simd("f32x4Add").set(acc[r]![v]!);
  }
  f.get(a)
    .i32Const(4 * rows)
    .op("i32Add")
    .set(a);
  for (const p of bAt) f.get(p).get(ldb).op("i32Add").set(p);
  f.get(a).get(aEnd).op("i32LtU").brIf(0).op("end").op("end");
  acc.forEach((accRow, r) =>
    accRow.forEach((x, v) =>
      f
        .get(row[r]!)
        .get(x)
        .v128Store(16 * v),
    ),
  );
  return f;
};

/**
 * The wide kernels for stripes of fewer rows than `s.mr`, to append to the module's functions
 * (`matmulModuleBytes(s, wideKernels(s))`).
 * @example wideKernels(defaultShape).map((f) => f.name) // ["wide_1", "wide_2"]
 */
export const wideKernels = (s: KernelShape): FunctionBuilder[] =>
  Object.entries(WIDE_PANELS)
    .filter(([rows]) => Number(rows) < s.mr)
    .map(([rows, panels]) => wideKernel(s, Number(rows), panels));
