/**
 * @file The compiler's packing of a product's `a` (see `pack_a` in matmulWasm.ts) for the two
 * layouts its products have: rows contiguous along k (`a` as stored, a gate matrix times a weight)
 * and columns contiguous (`a` transposed, the weight gradient dGᵀ · h after a reverse scan).
 *
 * `pack_a` moves one float at a time through a loop over the stripe's rows: a jitted char-rnn
 * training step packed ~5 M floats a step that way, 1.4 ms of its 25. Here a whole stripe of
 * `MR` rows moves at once: four columns of five rows are five vector loads, a 5 × 4 transpose in
 * thirteen shuffles and five vector stores; a transposed stripe is one vector and one float per
 * column. Packing copies floats, so the packed bytes, and every product's bits, are `pack_a`'s.
 *
 * Like the wide kernels (matmulWide.ts), only runners that `jit` compiles use them, so the code
 * stays out of the eager browser bundle.
 */
import { FunctionBuilder, i32 as I32, v128 as V128 } from "./emitter.js";
import type { KernelShape } from "./matmulWasm.js";

/** Stripe rows the transposing packer is written for (`defaultShape.mr`). */
const STRIPE_ROWS = 5;

type Lanes = readonly [number, number, number, number];
/** `i8x16.shuffle` bytes picking f32 lanes (0–3: the first operand, 4–7: the second). */
const laneBytes = (lanes: Lanes): number[] => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/**
 * `pack_a_rows(src, rowStride, dst, stripes, kc)`: `pack_a` for `stripes` whole stripes of 5 rows
 * of an `a` whose columns are 4 bytes apart (rowStride in bytes).
 */
const packRows = (): FunctionBuilder => {
  const f = new FunctionBuilder("pack_a_rows", [I32, I32, I32, I32, I32], []);
  const [src, rs, dst, stripes, kc] = [0, 1, 2, 3, 4];
  const row = [src, f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const [off, end4, end] = [f.local(I32), f.local(I32), f.local(I32)];
  const v = Array.from({ length: STRIPE_ROWS }, () => f.local(V128));
  // lo01 = (r0c0, r1c0, r0c1, r1c1), hi01 = (r0c2, r1c2, r0c3, r1c3), likewise for rows 2 and 3.
  const [lo01, lo23, hi01, hi23] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const shuffle = (x: number, y: number, lanes: Lanes): FunctionBuilder =>
    f.get(x).get(y).i8x16Shuffle(laneBytes(lanes));
  f.get(kc).i32Const(-4).op("i32And").i32Const(4).op("i32Mul").set(end4);
  f.get(kc).i32Const(4).op("i32Mul").set(end);
  f.block().get(stripes).i32Const(0).op("i32LeS").brIf(0).loop(); // for each stripe
  for (let r = 1; r < STRIPE_ROWS; r++)
    f.get(row[r - 1]!)
      .get(rs)
      .op("i32Add")
      .set(row[r]!);
  f.i32Const(0).set(off);
  f.block().get(end4).op("i32Eqz").brIf(0).loop(); // four columns at a time
  row.forEach((base, r) => f.get(base).get(off).op("i32Add").v128Load().set(v[r]!));
  shuffle(v[0]!, v[1]!, [0, 4, 1, 5]).set(lo01);
  shuffle(v[2]!, v[3]!, [0, 4, 1, 5]).set(lo23);
  shuffle(v[0]!, v[1]!, [2, 6, 3, 7]).set(hi01);
  shuffle(v[2]!, v[3]!, [2, 6, 3, 7]).set(hi23);
  // The 20 floats k-major: (r0..r3 c0), (r4c0, r0..r2 c1), (r3c1, r4c1, r0c2, r1c2), (r2..r4 c2, r0c3), (r1..r4 c3).
  f.get(dst);
  shuffle(lo01, lo23, [0, 1, 4, 5]).v128Store(0);
  f.get(dst);
  shuffle(v[4]!, lo01, [0, 6, 7, 0])
    .get(lo23)
    .i8x16Shuffle(laneBytes([0, 1, 2, 6]))
    .v128Store(16);
  f.get(dst);
  shuffle(lo23, v[4]!, [3, 5, 0, 0])
    .get(hi01)
    .i8x16Shuffle(laneBytes([0, 1, 4, 5]))
    .v128Store(32);
  f.get(dst);
  shuffle(hi23, v[4]!, [0, 1, 6, 0])
    .get(hi01)
    .i8x16Shuffle(laneBytes([0, 1, 2, 6]))
    .v128Store(48);
  f.get(dst);
  shuffle(hi01, hi23, [3, 6, 7, 0])
    .get(v[4]!)
    .i8x16Shuffle(laneBytes([0, 1, 2, 7]))
    .v128Store(64);
  f.get(dst).i32Const(80).op("i32Add").set(dst);
  f.get(off).i32Const(16).op("i32Add").tee(off).get(end4).op("i32LtU").brIf(0).op("end").op("end");
  // The last kc mod 4 columns, one float at a time.
  f.block().get(off).get(end).op("i32GeU").brIf(0).loop();
  row.forEach((base, r) =>
    f
      .get(dst)
      .get(base)
      .get(off)
      .op("i32Add")
      .f32Load()
      .f32Store(4 * r),
  );
  f.get(dst)
    .i32Const(4 * STRIPE_ROWS)
    .op("i32Add")
    .set(dst);
  f.get(off).i32Const(4).op("i32Add").tee(off).get(end).op("i32LtU").brIf(0).op("end").op("end");
  f.get(row[STRIPE_ROWS - 1]!)
    .get(rs)
    .op("i32Add")
    .set(src);
  f.get(stripes).i32Const(1).op("i32Sub").tee(stripes).brIf(0).op("end").op("end");
  return f;
};

/**
 * `pack_a_cols(src, colStride, dst, stripes, kc)`: `pack_a` for `stripes` whole stripes of `mr`
 * rows of an `a` whose rows are 4 bytes apart (colStride in bytes): each column's `mr` floats are
 * adjacent in memory and in the packed stripe, so they move as vectors and single floats.
 */
const packCols = (mr: number): FunctionBuilder => {
  const f = new FunctionBuilder("pack_a_cols", [I32, I32, I32, I32, I32], []);
  const [src, cs, dst, stripes, kc] = [0, 1, 2, 3, 4];
  const [ptr, p] = [f.local(I32), f.local(I32)];
  f.block().get(stripes).i32Const(0).op("i32LeS").brIf(0).get(kc).i32Const(0).op("i32LeS").brIf(0);
  f.loop(); // for each stripe
  f.get(src).set(ptr).get(kc).set(p).loop(); // for each column
  for (let r = 0; r + 4 <= mr; r += 4)
    f.get(dst)
      .get(ptr)
      .v128Load(4 * r)
      .v128Store(4 * r);
  for (let r = mr - (mr % 4); r < mr; r++)
    f.get(dst)
      .get(ptr)
      .f32Load(4 * r)
      .f32Store(4 * r);
  f.get(dst)
    .i32Const(4 * mr)
    .op("i32Add")
    .set(dst);
  f.get(ptr).get(cs).op("i32Add").set(ptr);
  f.get(p).i32Const(1).op("i32Sub").tee(p).brIf(0).op("end");
  f.get(src)
    .i32Const(4 * mr)
    .op("i32Add")
    .set(src);
  f.get(stripes).i32Const(1).op("i32Sub").tee(stripes).brIf(0).op("end").op("end");
  return f;
};

/**
 * The packing kernels to append to the compiler's module (`pack_a_cols` always, `pack_a_rows`
 * for stripes of 5 rows).
 * @example packAKernels(defaultShape).map((f) => f.name) // ["pack_a_cols", "pack_a_rows"]
 */
export const packAKernels = (s: KernelShape): FunctionBuilder[] =>
  s.mr === STRIPE_ROWS ? [packCols(s.mr), packRows()] : [packCols(s.mr)];

type Fn = (...args: number[]) => void;

/**
 * `pack_a(src, rowStride, colStride, dst, m, kc)` that packs the whole stripes through the
 * kernels of `packAKernels` (from `exports`) where the layout allows, and the rest through
 * `generic` (`pack_a` itself): the same bytes either way.
 */
export const fastPackA = (s: KernelShape, exports: Record<string, unknown>, generic: Fn): Fn => {
  const rows = exports["pack_a_rows"] as Fn | undefined;
  const cols = exports["pack_a_cols"] as Fn;
  return (src, rs, cs, dst, m, kc) => {
    const stripes = Math.floor(m / s.mr);
    const byRows = cs === 4 && rows !== undefined;
    if (stripes > 0 && (byRows || rs === 4)) {
      if (byRows) rows(src, rs, dst, stripes, kc);
      else cols(src, cs, dst, stripes, kc);
      const done = stripes * s.mr;
      if (done === m) return;
      src += done * rs;
      dst += 4 * done * kc;
      m -= done;
    }
    generic(src, rs, cs, dst, m, kc);
  };
};
