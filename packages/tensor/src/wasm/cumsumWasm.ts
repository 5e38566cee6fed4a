/**
 * @file float32 cumsum along an axis followed by others (an inner size that is a multiple of 4),
 * or along rows (the last axis, a length that is a multiple of 4, four rows at a time:
 * `cumsumRowsWasm`), in WebAssembly SIMD, for the cumulative kernel.
 *
 * The JavaScript loop converts every element to a double, adds, and converts back: ~1.3 ns an
 * element, about a third of a plain copy's speed. Here four lanes are promoted to two f64x2
 * pairs, added to the running sums (kept in this module's memory, one double per inner index)
 * and demoted back: the same IEEE operations in the same order, so the same bits as the
 * JavaScript loop. Like `unaryWasm.ts`, the rows pass through one 64 KB page chunk by chunk, so
 * the copies in and out stay in cache (rows wider than 8192 in blocks of 4096 columns). Memory:
 * that page plus one for the running sums.
 */
import { wasmApi, type WasmMemory } from "./api.js";
import { encodeModule, FunctionBuilder, i32, v128 } from "./emitter.js";
import { simdAvailable } from "./matmulRuntime.js";
import { CHUNK, scanPlanes, type PlaneModule } from "./planeColumns.js";

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

/**
 * `rows(at, groups, rowBytes, blocks)` (`reverse` baked in): for `groups` groups of four
 * consecutive rows of `rowBytes` bytes from byte `at`, overwrites each row with its running sum.
 * Four rows advance together a block of four elements at a time: the 4 × 4 block is transposed in
 * registers so that each step adds element j of all four rows (two f64x2 pairs of running sums),
 * and the four sums, rounded to float32, are transposed back: each row's additions in its order,
 * so the bits of the JavaScript row loop. Reverse walks the blocks and each block's lanes backwards.
 */
const rowsFunction = (reverse: boolean): FunctionBuilder => {
  const f = new FunctionBuilder(reverse ? "rows_reverse" : "rows", [i32, i32, i32, i32], []);
  const [at, groups, rowBytes, blocks] = [0, 1, 2, 3];
  const q = f.local(i32),
    k = f.local(i32);
  const x = [0, 1, 2, 3].map(() => f.local(v128));
  const [s01, s23] = [f.local(v128), f.local(v128)];
  const d01 = [0, 1, 2, 3].map(() => f.local(v128));
  const d23 = [0, 1, 2, 3].map(() => f.local(v128));
  const [ta, tb] = [f.local(v128), f.local(v128)];
  const lane = (j: number, offset: number): number[] => [0, 1, 2, 3].map((b) => offset + 4 * j + b);
  // Lane j of the first operand, then lane j of the second, in the low half.
  const pair = (j: number): number[] => [...lane(j, 0), ...lane(j, 16), ...lane(j, 0), ...lane(j, 16)];
  const interleave = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const low = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  // The address of row r's current block: q + r · rowBytes.
  const row = (r: number): void => {
    f.get(q);
    for (let i = 0; i < r; i++) f.get(rowBytes).op("i32Add");
  };
  f.block().get(groups).op("i32Eqz").brIf(0).loop();
  f.v128Zero().set(s01).v128Zero().set(s23);
  // q: the first block processed (reverse: the last one of row 0).
  f.get(at);
  if (reverse) f.get(rowBytes).i32Const(16).op("i32Sub").op("i32Add");
  f.set(q).get(blocks).set(k);
  f.loop();
  x.forEach((v, r) => {
    row(r);
    f.v128Load().set(v);
  });
  for (const j of reverse ? [3, 2, 1, 0] : [0, 1, 2, 3]) {
    f.get(s01).get(x[0]!).get(x[1]!).i8x16Shuffle(pair(j)).simd("f64x2PromoteLowF32x4").simd("f64x2Add").tee(s01);
    f.simd("f32x4DemoteF64x2Zero").set(d01[j]!);
    f.get(s23).get(x[2]!).get(x[3]!).i8x16Shuffle(pair(j)).simd("f64x2PromoteLowF32x4").simd("f64x2Add").tee(s23);
    f.simd("f32x4DemoteF64x2Zero").set(d23[j]!);
  }
  // Back to rows: [r0 j0, r0 j1, r1 j0, r1 j1] and [… j2, … j3], then each row's four lanes.
  for (const [d, first] of [
    [d01, 0],
    [d23, 2],
  ] as const) {
    f.get(d[0]!).get(d[1]!).i8x16Shuffle(interleave).set(ta);
    f.get(d[2]!).get(d[3]!).i8x16Shuffle(interleave).set(tb);
    row(first);
    f.get(ta).get(tb).i8x16Shuffle(low).v128Store();
    row(first + 1);
    f.get(ta).get(tb).i8x16Shuffle(high).v128Store();
  }
  f.get(q)
    .i32Const(reverse ? -16 : 16)
    .op("i32Add")
    .set(q);
  f.get(k).i32Const(1).op("i32Sub").tee(k).brIf(0);
  f.op("end");
  f.get(at).get(rowBytes).get(rowBytes).op("i32Add").tee(q).get(q).op("i32Add").op("i32Add").set(at);
  f.get(groups).i32Const(1).op("i32Sub").tee(groups).brIf(0);
  f.op("end").op("end");
  return f;
};

interface State {
  readonly memory: WasmMemory;
  /** The planes scan with its memory, for `scanPlanes`. */
  readonly planes: PlaneModule;
  readonly rows: readonly [Rows, Rows];
}
type Rows = (at: number, groups: number, rowBytes: number, blocks: number) => void;
let state: State | null | undefined;

const instantiate = (): State | null => {
  const api = wasmApi();
  if (api === undefined || !simdAvailable()) return null;
  try {
    const memory = new api.Memory({ initial: 2 });
    const module = new api.Module(encodeModule([planesFunction(), rowsFunction(false), rowsFunction(true)], 2));
    const { exports } = new api.Instance(module, { env: { memory } });
    return {
      memory,
      planes: { memory, run: exports["planes"] as PlaneModule["run"], stateAt: SUMS },
      rows: [exports["rows"] as Rows, exports["rows_reverse"] as Rows],
    };
  } catch {
    return null;
  }
};

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
  if (state === undefined) state = instantiate();
  if (state === null) return false;
  scanPlanes(state.planes, [src], dst, outer, n, inner, reverse);
  return true;
};

/**
 * dst = cumsum of `src` viewed as `[outer, n]` along its rows (the last axis), in WebAssembly SIMD,
 * with the bits of the JavaScript row loop, for the first `outer − outer mod 4` rows: returns how
 * many rows it wrote (0 where it does not apply: n not a multiple of 4, rows longer than 4096, or
 * no WebAssembly SIMD); the caller runs the rest.
 * @example cumsumRowsWasm(x, out, 16384, 128, false) // 16384
 */
export const cumsumRowsWasm = (
  src: Float32Array,
  dst: Float32Array,
  outer: number,
  n: number,
  reverse: boolean,
): number => {
  if (n % 4 !== 0 || n === 0 || 4 * n > CHUNK) return 0;
  if (state === undefined) state = instantiate();
  if (state === null) return 0;
  const heap = new Float32Array(state.memory.buffer, 0, CHUNK);
  const rows = state.rows[reverse ? 1 : 0];
  const perChunk = Math.floor(CHUNK / (4 * n));
  const groups = Math.floor(outer / 4);
  for (let done = 0; done < groups; done += perChunk) {
    const count = Math.min(perChunk, groups - done);
    const from = done * 4 * n;
    const size = count * 4 * n;
    heap.set(src.subarray(from, from + size));
    rows(0, count, n * 4, n / 4);
    dst.set(heap.subarray(0, size), from);
  }
  return groups * 4;
};
