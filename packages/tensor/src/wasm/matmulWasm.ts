/**
 * @file Float32 matrix products in WebAssembly SIMD, generated at run time by `emitter.ts`.
 *
 * Arithmetic contract (shared bit for bit with `matmulJs.ts`): every output element starts at +0
 * and adds its k products one at a time in increasing k, each product and each sum rounded to
 * float32: `acc = f32(acc + f32(a[i,p] · b[p,j]))`. WebAssembly SIMD has no fused multiply-add
 * (only the relaxed-SIMD proposal does), so `f32x4.mul` then `f32x4.add` is exactly that, lane by
 * lane; the JS fallback gets the same bits from `Math.fround` (a float64 sum or product of two
 * float32 values rounded once to float32 equals the float32 operation, since 53 ≥ 2·24 + 2).
 *
 * Structure (the GotoBLAS/BLIS layout, scaled down):
 * - Micro-kernels `micro_R` keep an R × NR tile of `out` (R ≤ MR rows, NR = 4·NV columns) in
 *   R·NV v128 accumulators, and per k step load NV vectors of `b`, splat R values of `a`, and do
 *   R·NV multiplies and adds. Measured on this machine (Zen 4, V8 11.3; GFLOP/s at 512 by CPU
 *   time under load): 5 × 8 (ten accumulators) 44, 4 × 8 41, 2 × 16 41, 3 × 12 38, 8 × 4 35; 6 × 8
 *   and 4 × 12 need 16 xmm registers where V8 allocates 15, and spills drop them to ~25.
 *   Unrolling the k loop hurts (4 × 8: 41 → 27 at 2 steps, 24 at 4): TurboFan hoists every load of
 *   the unrolled body to its top and spills, so the loop does one k step per iteration.
 * - Operands are packed first (`pack_a`, `pack_b`), so the micro-kernel reads both sequentially
 *   and the transposed variants differ only in the strides the packing reads with: `nt` and `tn`
 *   cost one strided pass over an operand, not a transposed copy plus a product. Exception: when
 *   `a` has at most 4·MR rows, each value of a row-major `b` is used at most four times, and
 *   packing costs more than it saves (measured: 1 × 100 × 100 3.3 → 2.3 µs, 5 × 1024² 680 →
 *   450 µs, 20 × 256² even); the micro-kernel then reads `b` in place, only the ragged last
 *   panel packed.
 * - k is cut into blocks of KC and n into chunks of NC so the packed block of `b` stays in L2 and
 *   the R × KC sliver of `a` in L1 (on this machine KC 128–512 and NC 120–1024 measure within
 *   noise: the kernel is compute-bound). Partial sums cross k blocks through `out`'s float32
 *   storage, which changes nothing (the accumulator is float32 anyway), so the contract holds.
 * - Ragged edges: the last rows use a micro-kernel for fewer rows; the last columns are padded
 *   with zeros in the packed `b` and go through a small scratch tile, so stores stay in bounds.
 *
 * Memory and calls: see matmulRuntime.ts (a shared memory the operands are copied into, or a
 * memory the caller owns, computed in place). A whole call costs ~0.25 µs beyond its
 * arithmetic, which only matters for tiny products, and `matmul.ts` sends those to JS.
 *
 * Cost of first use: emitting and compiling the ~5 KB module takes a few ms, and V8 first runs
 * it in its baseline compiler until the optimised code arrives (a 512² product: ~30 ms on the
 * first call, ~7 ms a few calls later). Compilation is synchronous (`new WebAssembly.Module`),
 * which Chrome allows on the main thread up to 8 MB (older versions: 4 KB); where an engine
 * refuses, the JS kernel runs instead, with the same results.
 */
import { encodeModule, FunctionBuilder, i32 as I32, v128 as V128 } from "./emitter.js";

/**
 * Shape of the generated code; see the file comment. Exported for tuning and tests.
 * @example matmulF32Wasm(out, 0, a, 0, b, 0, m, k, n, false, false, { ...defaultShape, mr: 4 })
 */
export interface KernelShape {
  /** Rows per micro-tile. */
  readonly mr: number;
  /** v128 vectors per micro-tile row (NR = 4·nv columns). */
  readonly nv: number;
  /** k block and n chunk sizes (NC a multiple of 4·nv). */
  readonly kc: number;
  readonly nc: number;
}
/**
 * Chosen by measurement (bench/tensor.bench.ts and a sweep over mr, nv, kc, nc).
 * @example 4 * defaultShape.nv // 8 columns per micro-tile
 */
export const defaultShape: KernelShape = { mr: 5, nv: 2, kc: 256, nc: 512 };

// ---- code generation ----

/**
 * `micro_R(a, b, ldb, c, ldc, kc, first)`: the R × NR tile at c (rows ldc bytes apart) gets
 * (first: is set to) the product of the packed R-row sliver at a and the kc × NR block at b (rows
 * ldb bytes apart: NR·4 when packed, the row stride of a row-major operand read in place), kc ≥ 1.
 */
const microKernel = (s: KernelShape, rows: number): FunctionBuilder => {
  const f = new FunctionBuilder(`micro_${rows}`, [I32, I32, I32, I32, I32, I32, I32], []);
  const [a, b, ldb, c, ldc, kc, first] = [0, 1, 2, 3, 4, 5, 6];
  const acc = Array.from({ length: rows }, () => Array.from({ length: s.nv }, () => f.local(V128)));
  const bv = Array.from({ length: s.nv }, () => f.local(V128));
  const splat = f.local(V128);
  const row = Array.from({ length: rows }, (_, r) => (r === 0 ? c : f.local(I32)));
  const aEnd = f.local(I32);
  for (let r = 1; r < rows; r++) f.get(c).get(ldc).i32Const(r).op("i32Mul").op("i32Add").set(row[r]!);
  // Start from zero on the first k block, else from the partial sums stored in c.
  f.get(first).if();
  for (const accRow of acc) for (const x of accRow) f.v128Zero().set(x);
  f.op("else");
  acc.forEach((accRow, r) =>
    accRow.forEach((x, q) =>
      f
        .get(row[r]!)
        .v128Load(16 * q)
        .set(x),
    ),
  );
  f.op("end");
  // The k loop: one step per iteration. (Unrolled bodies measured slower: TurboFan hoists all
  // their loads to the top and runs out of registers; see the file comment.)
  f.get(a)
    .get(kc)
    .i32Const(4 * rows)
    .op("i32Mul")
    .op("i32Add")
    .set(aEnd);
  // The zero-trip guard is redundant (kc ≥ 1), but without it TurboFan (V8 11.3) schedules all the
  // splat loads first and spills accumulators: 2× slower. Check with `node --print-wasm-code`.
  f.block().get(a).get(aEnd).op("i32GeU").brIf(0).loop();
  bv.forEach((x, q) =>
    f
      .get(b)
      .v128Load(16 * q)
      .set(x),
  );
  for (let r = 0; r < rows; r++) {
    f.get(a)
      .v128Load32Splat(4 * r)
      .set(splat);
    acc[r]!.forEach((x, q) => f.get(x).get(splat).get(bv[q]!).simd("f32x4Mul").simd("f32x4Add").set(x));
  }
  f.get(a)
    .i32Const(4 * rows)
    .op("i32Add")
    .set(a);
  f.get(b).get(ldb).op("i32Add").set(b);
  f.get(a).get(aEnd).op("i32LtU").brIf(0).op("end").op("end");
  acc.forEach((accRow, r) =>
    accRow.forEach((x, q) =>
      f
        .get(row[r]!)
        .get(x)
        .v128Store(16 * q),
    ),
  );
  return f;
};

/** Emits `for (x = 0; x < count; x += 4) body()` over a byte index (count in bytes). */
const byteLoop = (f: FunctionBuilder, x: number, count: number, body: () => void): void => {
  f.i32Const(0).set(x).block().get(x).get(count).op("i32GeU").brIf(0).loop();
  body();
  f.get(x).i32Const(4).op("i32Add").tee(x).get(count).op("i32LtU").brIf(0).op("end").op("end");
};

/**
 * `stripe_R(a, b, panelStep, ldb, bTail, c, ldc, kc, nFull, w, first, tmp)`: one R-row stripe
 * of c against nFull whole NR-column panels of b (the first at b, the next panelStep bytes on,
 * rows ldb bytes apart), then, if w > 0, a last panel of w < NR columns packed at bTail, computed
 * into the NR-wide tile `tmp` so that only its w valid columns are copied to c.
 */
const stripeKernel = (s: KernelShape, rows: number, microIndex: number): FunctionBuilder => {
  const f = new FunctionBuilder(
    `stripe_${rows}`,
    Array.from({ length: 12 }, () => I32),
    [],
  );
  const [a, b, panelStep, ldb, bTail, c, ldc, kc, nFull, w, first, tmp] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const x = f.local(I32);
  const wBytes = f.local(I32);
  const src = f.local(I32);
  const nr = 4 * s.nv;
  f.block().get(nFull).op("i32Eqz").brIf(0).loop();
  f.get(a).get(b).get(ldb).get(c).get(ldc).get(kc).get(first).call(microIndex);
  f.get(b).get(panelStep).op("i32Add").set(b);
  f.get(c)
    .i32Const(4 * nr)
    .op("i32Add")
    .set(c);
  f.get(nFull).i32Const(1).op("i32Sub").tee(nFull).brIf(0).op("end").op("end");
  // Ragged last panel: copy the w valid columns of each row between c and the tile.
  const copyTile = (toTile: boolean): void => {
    for (let r = 0; r < rows; r++) {
      f.get(c).get(ldc).i32Const(r).op("i32Mul").op("i32Add").set(src);
      byteLoop(f, x, wBytes, () => {
        if (toTile)
          f.get(tmp)
            .get(x)
            .op("i32Add")
            .get(src)
            .get(x)
            .op("i32Add")
            .f32Load()
            .f32Store(4 * nr * r);
        else
          f.get(src)
            .get(x)
            .op("i32Add")
            .get(tmp)
            .get(x)
            .op("i32Add")
            .f32Load(4 * nr * r)
            .f32Store();
      });
    }
  };
  f.get(w).if();
  f.get(w).i32Const(4).op("i32Mul").set(wBytes);
  f.get(first).op("i32Eqz").if();
  copyTile(true);
  f.op("end");
  f.get(a)
    .get(bTail)
    .i32Const(4 * nr)
    .get(tmp)
    .i32Const(4 * nr)
    .get(kc)
    .get(first)
    .call(microIndex);
  copyTile(false);
  f.op("end");
  return f;
};

/**
 * `pack_a(src, rowStride, colStride, dst, m, kc)` (strides in bytes): writes stripes of MR rows
 * (the last one shorter), each k-major: for every p, the stripe's R values of column p.
 */
const packA = (s: KernelShape): FunctionBuilder => {
  const f = new FunctionBuilder("pack_a", [I32, I32, I32, I32, I32, I32], []);
  const [src, rs, cs, dst, m, kc] = [0, 1, 2, 3, 4, 5];
  const [rows, p, r, col, ptr] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.block().get(m).i32Const(0).op("i32LeS").brIf(0).loop(); // for each stripe
  // rows = min(MR, m)
  f.get(m).i32Const(s.mr).i32Const(s.mr).get(m).op("i32GtS").op("select").set(rows);
  f.get(src).set(col).get(kc).set(p).loop(); // for each column p of the block
  f.get(col).set(ptr).get(rows).set(r).loop(); // for each row of the stripe
  f.get(dst).get(ptr).f32Load().f32Store();
  f.get(dst).i32Const(4).op("i32Add").set(dst);
  f.get(ptr).get(rs).op("i32Add").set(ptr);
  f.get(r).i32Const(1).op("i32Sub").tee(r).brIf(0).op("end");
  f.get(col).get(cs).op("i32Add").set(col);
  f.get(p).i32Const(1).op("i32Sub").tee(p).brIf(0).op("end");
  f.get(src).get(rs).i32Const(s.mr).op("i32Mul").op("i32Add").set(src);
  f.get(m).i32Const(s.mr).op("i32Sub").tee(m).i32Const(0).op("i32GtS").brIf(0).op("end").op("end");
  return f;
};

/**
 * `pack_b(src, rowStride, colStride, dst, kc, n)` (strides in bytes): writes panels of NR
 * columns, each k-major (for every p, NR values of row p), the last panel padded with zeros.
 * Unit column stride (the `nn`/`tn` case) copies whole vectors.
 */
const packB = (s: KernelShape): FunctionBuilder => {
  const f = new FunctionBuilder("pack_b", [I32, I32, I32, I32, I32, I32], []);
  const [src, rs, cs, dst, kc, n] = [0, 1, 2, 3, 4, 5];
  const [w, p, rowPtr, ptr, c] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const nr = 4 * s.nv;
  f.block().get(n).i32Const(0).op("i32LeS").brIf(0).loop(); // for each panel
  f.get(n).i32Const(nr).i32Const(nr).get(n).op("i32GtS").op("select").set(w);
  f.get(src).set(rowPtr).get(kc).set(p).loop(); // for each row p of the block
  f.get(w).i32Const(nr).op("i32Eq").get(cs).i32Const(4).op("i32Eq").op("i32And").if();
  for (let q = 0; q < s.nv; q++)
    f.get(dst)
      .get(rowPtr)
      .v128Load(16 * q)
      .v128Store(16 * q);
  f.op("else");
  for (let q = 0; q < s.nv; q++)
    f.get(dst)
      .v128Zero()
      .v128Store(16 * q);
  f.get(rowPtr).set(ptr).i32Const(0).set(c).loop();
  f.get(dst).get(c).op("i32Add").get(ptr).f32Load().f32Store();
  f.get(ptr).get(cs).op("i32Add").set(ptr);
  f.get(c).i32Const(4).op("i32Add").tee(c).get(w).i32Const(4).op("i32Mul").op("i32LtU").brIf(0).op("end");
  f.op("end");
  f.get(dst)
    .i32Const(4 * nr)
    .op("i32Add")
    .set(dst);
  f.get(rowPtr).get(rs).op("i32Add").set(rowPtr);
  f.get(p).i32Const(1).op("i32Sub").tee(p).brIf(0).op("end");
  f.get(src).get(cs).i32Const(nr).op("i32Mul").op("i32Add").set(src);
  f.get(n).i32Const(nr).op("i32Sub").tee(n).i32Const(0).op("i32GtS").brIf(0).op("end").op("end");
  return f;
};

/**
 * The module's bytes: `micro_1..MR` (functions 0..MR-1), `stripe_1..MR`, `pack_a`, `pack_b`, then
 * `extra` (the compiler's kernels, see matmulWide.ts).
 * @example new WebAssembly.Module(matmulModuleBytes(defaultShape)).byteLength
 */
export const matmulModuleBytes = (s: KernelShape, extra: readonly FunctionBuilder[] = []): Uint8Array => {
  const rows = Array.from({ length: s.mr }, (_, i) => i + 1);
  return encodeModule(
    [
      ...rows.map((r) => microKernel(s, r)),
      ...rows.map((r) => stripeKernel(s, r, r - 1)),
      packA(s),
      packB(s),
      ...extra,
    ],
    1,
  );
};
