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
import { v128, type FunctionBuilder } from "./emitter.js";
import { JOIN_LOW_HALVES, lazyPlaneModule, planeFunction, scanPlanes, UPPER_HALF } from "./planeColumns.js";

/** Byte offset of the chunk of b from the chunk of a (the second page). */
const B_AT = 65536;
/** Byte address of the running h (the third and fourth pages): at most 8192 doubles. */
const H_AT = 131072;

/**
 * `scan(at, rows, step, rowBytes)`: for `rows` rows of `rowBytes` bytes of a, the first at byte
 * `at` and each next `step` bytes further (negative for reverse), with b's rows `B_AT` bytes
 * after a's, sets h = a · h + b per inner index and overwrites b's row with h rounded to float32.
 */
const scanFunction = (): FunctionBuilder =>
  planeFunction("scan", H_AT, (f, { p, q, lo, hi }) => {
    const xa = f.local(v128),
      xb = f.local(v128);
    f.get(p).v128Load().set(xa);
    f.get(p).v128Load(B_AT).set(xb);
    // Lanes 0–1 and 2–3 as doubles: h = a · h + b, in the JavaScript loop's order.
    f.get(xa).simd("f64x2PromoteLowF32x4").get(q).v128Load().simd("f64x2Mul");
    f.get(xb).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(lo);
    f.get(xa).get(xa).i8x16Shuffle(UPPER_HALF).simd("f64x2PromoteLowF32x4").get(q).v128Load(16).simd("f64x2Mul");
    f.get(xb).get(xb).i8x16Shuffle(UPPER_HALF).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(hi);
    f.get(q).get(lo).v128Store();
    f.get(q).get(hi).v128Store(16);
    // Both pairs rounded to float32 and joined into one vector, stored over b's row.
    f.get(p).get(lo).simd("f32x4DemoteF64x2Zero").get(hi).simd("f32x4DemoteF64x2Zero").i8x16Shuffle(JOIN_LOW_HALVES);
    f.v128Store(B_AT);
  });

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
