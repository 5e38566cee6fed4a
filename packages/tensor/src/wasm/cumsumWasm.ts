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
import { FunctionBuilder, i32, v128 } from "./emitter.js";
import { lazyPlaneModule, scanPlanes } from "./planeColumns.js";

/** Byte address of the running sums (the second page): at most 8192 doubles. */
const SUMS = 65536;

/**
 * `planes(at, rows, step, rowBytes)`: for `rows` rows of `rowBytes` bytes, the first at byte `at`
 * and each next `step` bytes further (negative for reverse), adds each row into the running sums
 * at `SUMS` and overwrites the row with the sums rounded to float32.
 */
const planesFunction = (): FunctionBuilder => {
  const f = new FunctionBuilder("planes", [i32, i32, i32, i32], []);
  const [at, rows, step, rowBytes] = [0, 1, 2, 3];
  const p = f.local(i32),
    q = f.local(i32),
    end = f.local(i32),
    x = f.local(v128),
    lo = f.local(v128),
    hi = f.local(v128);
  const upperHalf = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const join = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  f.block().get(rows).op("i32Eqz").brIf(0).loop();
  f.get(at).set(p).i32Const(SUMS).set(q).get(at).get(rowBytes).op("i32Add").set(end);
  f.loop();
  f.get(p).v128Load().set(x);
  // Lanes 0–1 and 2–3 as doubles, each added to its running sums.
  f.get(q).v128Load().get(x).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(lo);
  f.get(q).v128Load(16).get(x).get(x).i8x16Shuffle(upperHalf).simd("f64x2PromoteLowF32x4").simd("f64x2Add").set(hi);
  f.get(q).get(lo).v128Store();
  f.get(q).get(hi).v128Store(16);
  // Both pairs rounded to float32 and joined into one vector, stored over the row.
  f.get(p).get(lo).simd("f32x4DemoteF64x2Zero").get(hi).simd("f32x4DemoteF64x2Zero").i8x16Shuffle(join).v128Store();
  f.get(q).i32Const(32).op("i32Add").set(q);
  f.get(p).i32Const(16).op("i32Add").tee(p).get(end).op("i32LtU").brIf(0);
  f.op("end");
  f.get(at).get(step).op("i32Add").set(at);
  f.get(rows).i32Const(1).op("i32Sub").tee(rows).brIf(0);
  f.op("end").op("end");
  return f;
};

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
