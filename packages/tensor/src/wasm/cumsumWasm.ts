/**
 * @file float32 cumsum along an axis followed by others (an inner size that is a multiple of 4)
 * in WebAssembly SIMD, for the cumulative kernel.
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

/** Floats per chunk: one 64 KB page. */
const CHUNK = 16384;
/** Byte address of the running sums (the second page): at most 8192 doubles. */
const SUMS = 65536;
/** The widest inner size the running sums fit. */
const MAX_INNER = 8192;
/** Columns per block when the inner size is wider: four rows per page. */
const BLOCK = 4096;

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

interface State {
  readonly memory: WasmMemory;
  readonly planes: (at: number, rows: number, step: number, rowBytes: number) => void;
}
let state: State | null | undefined;

const instantiate = (): State | null => {
  const api = wasmApi();
  if (api === undefined || !simdAvailable()) return null;
  try {
    const memory = new api.Memory({ initial: 2 });
    const { exports } = new api.Instance(new api.Module(encodeModule([planesFunction()], 2)), { env: { memory } });
    return { memory, planes: exports["planes"] as State["planes"] };
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
  const width = inner <= MAX_INNER ? inner : BLOCK;
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < inner; c += width)
      columns(state, src, dst, o * n * inner + c, n, inner, Math.min(width, inner - c), reverse);
  return true;
};

/** `w` columns from `base` on, down all `n` rows (`inner` apart), through the page a chunk of rows at a time. */
const columns = (
  { memory, planes }: State,
  src: Float32Array,
  dst: Float32Array,
  base: number,
  n: number,
  inner: number,
  w: number,
  reverse: boolean,
): void => {
  const heap = new Float32Array(memory.buffer, 0, CHUNK);
  new Float64Array(memory.buffer, SUMS, w).fill(0);
  const perChunk = Math.floor(CHUNK / w);
  const rowBytes = w * 4;
  for (let done = 0; done < n; done += perChunk) {
    const rows = Math.min(perChunk, n - done);
    // Forward: rows done..; reverse: the chunk ending `done` rows before the end, walked backwards.
    const first = base + (reverse ? n - done - rows : done) * inner;
    if (w === inner) heap.set(src.subarray(first, first + rows * w));
    else for (let r = 0; r < rows; r++) heap.set(src.subarray(first + r * inner, first + r * inner + w), r * w);
    if (reverse) planes((rows - 1) * rowBytes, rows, -rowBytes, rowBytes);
    else planes(0, rows, rowBytes, rowBytes);
    if (w === inner) dst.set(heap.subarray(0, rows * w), first);
    else for (let r = 0; r < rows; r++) dst.set(heap.subarray(r * w, (r + 1) * w), first + r * inner);
  }
};
