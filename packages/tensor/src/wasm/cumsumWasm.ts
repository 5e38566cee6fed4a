/**
 * @file float32 cumsum along an axis followed by others (an inner size that is a multiple of 4)
 * in WebAssembly SIMD, for the cumulative kernel. (The last axis runs the JavaScript row loop,
 * four rows interleaved: a SIMD row kernel reached 0.53× a copy against its 0.37×, but its ~430
 * gzipped bytes pushed the browser bundle of issue 14 over its 70 kB gate.)
 *
 * The JavaScript loop converts every element to a double, adds, and converts back: ~1.3 ns an
 * element, about a third of a plain copy's speed. Here four lanes are promoted to two f64x2
 * pairs, added to the running sums (kept in this module's memory, one double per inner index)
 * and demoted back: the same IEEE operations in the same order, so the same bits as the
 * JavaScript loop. Like `unaryWasm.ts`, the rows pass through one 64 KB page chunk by chunk, so
 * the copies in and out stay in cache (rows wider than 8192 in blocks of 4096 columns). Memory:
 * that page plus one for the running sums.
 */
import { v128, type FunctionBuilder } from "./emitter.js";
import { JOIN_LOW_HALVES, lazyPlaneModule, planeFunction, scanPlanes, UPPER_HALF } from "./planeColumns.js";

/** Byte address of the running sums (the second page): at most 8192 doubles. */
const SUMS = 65536;

/**
 * `planes(at, rows, step, rowBytes)`: for `rows` rows of `rowBytes` bytes, the first at byte `at`
 * and each next `step` bytes further (negative for reverse), adds each row into the running sums
 * at `SUMS` and overwrites the row with the sums rounded to float32.
 */
const planesFunction = (): FunctionBuilder =>
  planeFunction("planes", SUMS, (f, { p, q, lo, hi }) => {
    const x = f.local(v128);
    f.get(p).v128Load().set(x);
    // Lanes 0–1 and 2–3 as doubles, each added to its running sums.
    f.get(q).v128Load().get(x).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(lo);
    f.get(q).v128Load(16).get(x).get(x).i8x16Shuffle(UPPER_HALF).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(hi);
    f.get(q).get(lo).v128Store();
    f.get(q).get(hi).v128Store(16);
    // Both pairs rounded to float32 and joined into one vector, stored over the row.
    f.get(p).get(lo).simd("f32x4DemoteF64x2Zero").get(hi).simd("f32x4DemoteF64x2Zero").i8x16Shuffle(JOIN_LOW_HALVES);
    f.v128Store();
  });

const planeModule = lazyPlaneModule(planesFunction, 2, SUMS);

/**
 * dst = cumsum of `src` viewed as `[outer, n, inner]` along the middle axis, in WebAssembly SIMD,
 * with the bits of the JavaScript loop. Inner sizes above 8192 run in blocks of 4096 columns.
 * Returns false, having written nothing, where it does not apply (inner not a multiple of 4) or
 * WebAssembly SIMD is unavailable.
 * @example cumsumPlanesWasm(x, out, 16, 1024, 128, false) // true; out holds the running sums
 */
export const cumsumPlanesWasm = (
  src: Float32Array,
  dst: Float32Array,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): boolean => {
  if (inner % 4 !== 0 || inner === 0) return false;
  const state = planeModule();
  if (state === null) return false;
  scanPlanes(state, [src], dst, outer, n, inner, reverse);
  return true;
};
