/**
 * @file float32 `linearScan` (h_t = a_t · h_{t−1} + b_t) along an axis followed by others (an
 * inner size that is a multiple of 4) in WebAssembly SIMD, for the linearScan kernel.
 *
 * The same access pattern as `cumsumWasm.ts`: rows of a and b pass through this module's memory a
 * chunk at a time (a in the first 64 KB page, b in the second, so the copies stay in cache), the
 * running h is one double per inner index in the third and fourth pages, and four lanes are
 * promoted to two f64x2 pairs, multiplied by h, added to b and demoted back: the IEEE operations
 * of the JavaScript loop (`a · h` rounded to double, `+ b` rounded to double, the output rounded
 * to float32 once), so the same bits. The result overwrites the chunk of b, which is then copied out.
 */
import { FunctionBuilder, i32, v128 } from "./emitter.js";
import { lazyPlaneModule, scanPlanes } from "./planeColumns.js";

/** Byte offset of the chunk of b from the chunk of a (the second page). */
const B_AT = 65536;
/** Byte address of the running h (the third and fourth pages): at most 8192 doubles. */
const H_AT = 131072;

/**
 * `scan(at, rows, step, rowBytes)`: for `rows` rows of `rowBytes` bytes of a, the first at byte
 * `at` and each next `step` bytes further (negative for reverse), with b's rows `B_AT` bytes
 * after a's, sets h = a · h + b per inner index and overwrites b's row with h rounded to float32.
 */
const scanFunction = (): FunctionBuilder => {
  const f = new FunctionBuilder("scan", [i32, i32, i32, i32], []);
  const [at, rows, step, rowBytes] = [0, 1, 2, 3];
  const p = f.local(i32),
    q = f.local(i32),
    end = f.local(i32),
    xa = f.local(v128),
    xb = f.local(v128),
    lo = f.local(v128),
    hi = f.local(v128);
  const upperHalf = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const join = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  f.block().get(rows).op("i32Eqz").brIf(0).loop();
  f.get(at).set(p).i32Const(H_AT).set(q).get(at).get(rowBytes).op("i32Add").set(end);
  f.loop();
  f.get(p).v128Load().set(xa);
  f.get(p).v128Load(B_AT).set(xb);
  // Lanes 0–1 and 2–3 as doubles: h = a · h + b, in the JavaScript loop's order.
  f.get(xa).simd("f64x2PromoteLowF32x4").get(q).v128Load().simd("f64x2Mul");
  f.get(xb).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(lo);
  f.get(xa).get(xa).i8x16Shuffle(upperHalf).simd("f64x2PromoteLowF32x4").get(q).v128Load(16).simd("f64x2Mul");
  f.get(xb).get(xb).i8x16Shuffle(upperHalf).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(hi);
  f.get(q).get(lo).v128Store();
  f.get(q).get(hi).v128Store(16);
  // Both pairs rounded to float32 and joined into one vector, stored over b's row.
  f.get(p).get(lo).simd("f32x4DemoteF64x2Zero").get(hi).simd("f32x4DemoteF64x2Zero").i8x16Shuffle(join);
  f.v128Store(B_AT);
  f.get(q).i32Const(32).op("i32Add").set(q);
  f.get(p).i32Const(16).op("i32Add").tee(p).get(end).op("i32LtU").brIf(0);
  f.op("end");
  f.get(at).get(step).op("i32Add").set(at);
  f.get(rows).i32Const(1).op("i32Sub").tee(rows).brIf(0);
  f.op("end").op("end");
  return f;
};

const planeModule = lazyPlaneModule(scanFunction, 4, H_AT);

/**
 * dst = linearScan of float32 `a` and `b` viewed as `[outer, n, inner]` along the middle axis, in
 * WebAssembly SIMD, with the bits of the JavaScript loop. Inner sizes above 8192 run in blocks of
 * 4096 columns. Returns false, having written nothing, where it does not apply (inner not a
 * multiple of 4) or WebAssembly SIMD is unavailable.
 * @example linearScanPlanesWasm(a, b, out, 16, 1024, 128, false) // true; out holds every h_t
 */
export const linearScanPlanesWasm = (
  a: Float32Array,
  b: Float32Array,
  dst: Float32Array,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): boolean => {
  if (inner % 4 !== 0 || inner === 0) return false;
  const state = planeModule();
  if (state === null) return false;
  scanPlanes(state, [a, b], dst, outer, n, inner, reverse);
  return true;
};
