/**
 * @file The JavaScript side shared by the SIMD scans along an axis followed by others
 * (`cumsumWasm.ts`, `linearScanWasm.ts`): a `[outer, n, inner]` view is walked in blocks of
 * columns, and each block's rows pass through the module's memory a chunk at a time (each input in
 * its own 64 KB page, so the copies stay in cache), are scanned in place by the module's `run`
 * (the last input's page is overwritten by the result) and copied out. The running state (one
 * double per column) is zeroed at the start of each block.
 */
import { wasmApi, type WasmMemory } from "./api.js";
import { encodeModule, FunctionBuilder, i32, v128 } from "./emitter.js";
import { simdAvailable } from "./matmulRuntime.js";

/** Floats per chunk: one 64 KB page. */
export const CHUNK = 16384;
/** The widest inner size the running state fits (8192 doubles). */
export const MAX_INNER = 8192;
/** Columns per block when the inner size is wider. */
const BLOCK = 4096;

/** A module's scan: `run(at, rows, step, rowBytes)` over `rows` rows from byte `at`, `step` bytes apart. */
export type PlaneRun = (at: number, rows: number, step: number, rowBytes: number) => void;

/** Where a scan module keeps things: its memory, its scan, and the byte address of the running state. */
export interface PlaneModule {
  readonly memory: WasmMemory;
  readonly run: PlaneRun;
  /** Byte address of the running state (one double per column). */
  readonly stateAt: number;
}

/** i8x16Shuffle indices: lanes 2–3 of a float32 vector moved to lanes 0–1 (to promote them). */
export const UPPER_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** i8x16Shuffle indices: the low halves of two vectors joined (two demoted f64x2 pairs → four floats). */
export const JOIN_LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** The locals a scan's column body reads: the row pointer, the state pointer, two f64x2 temporaries. */
export interface PlaneLocals {
  /** Byte address of the current four floats of the (first) input's row. */
  readonly p: number;
  /** Byte address of their four running doubles. */
  readonly q: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * `name(at, rows, step, rowBytes)`: for `rows` rows of `rowBytes` bytes, the first at byte `at` and
 * each next `step` bytes further (negative for reverse), runs `column` on every four floats of the
 * row with `q` at their running doubles from `stateAt` (32 bytes per step). The row and column
 * loops every plane scan shares; `column` emits the scan itself.
 * @example planeFunction("planes", 65536, (f, { p, q }) => { … })
 */
export const planeFunction = (
  name: string,
  stateAt: number,
  column: (f: FunctionBuilder, locals: PlaneLocals) => void,
): FunctionBuilder => {
  const f = new FunctionBuilder(name, [i32, i32, i32, i32], []);
  const [at, rows, step, rowBytes] = [0, 1, 2, 3];
  const p = f.local(i32),
    q = f.local(i32),
    end = f.local(i32),
    lo = f.local(v128),
    hi = f.local(v128);
  f.block().get(rows).op("i32Eqz").brIf(0).loop();
  f.get(at).set(p).i32Const(stateAt).set(q).get(at).get(rowBytes).op("i32Add").set(end);
  f.loop();
  column(f, { p, q, lo, hi });
  f.get(q).i32Const(32).op("i32Add").set(q);
  f.get(p).i32Const(16).op("i32Add").tee(p).get(end).op("i32LtU").brIf(0);
  f.op("end");
  f.get(at).get(step).op("i32Add").set(at);
  f.get(rows).i32Const(1).op("i32Sub").tee(rows).brIf(0);
  f.op("end").op("end");
  return f;
};

/**
 * A getter of the module built from `build` (one exported function of that name) with `pages`
 * pages of memory, instantiated on first use and cached; null where WebAssembly SIMD is missing.
 * @example const planes = lazyPlaneModule(planesFunction, 2, 65536); planes()?.run(0, 1, 16, 16)
 */
export const lazyPlaneModule = (
  build: () => FunctionBuilder,
  pages: number,
  stateAt: number,
): (() => PlaneModule | null) => {
  let module: PlaneModule | null | undefined;
  const instantiate = (): PlaneModule | null => {
    const api = wasmApi();
    if (api === undefined || !simdAvailable()) return null;
    try {
      const memory = new api.Memory({ initial: pages });
      const f = build();
      const { exports } = new api.Instance(new api.Module(encodeModule([f], pages)), { env: { memory } });
      return { memory, run: exports[f.name] as PlaneRun, stateAt };
    } catch {
      return null;
    }
  };
  return () => (module === undefined ? (module = instantiate()) : module);
};

/**
 * Scans `inputs` (page k of the module's memory holds input k) viewed as `[outer, n, inner]` along
 * the middle axis into `dst`; the caller has checked that inner is a positive multiple of 4.
 * @example scanPlanes(module, [a, b], out, 16, 1024, 128, false)
 */
export const scanPlanes = (
  m: PlaneModule,
  inputs: readonly Float32Array[],
  dst: Float32Array,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void => {
  const width = inner <= MAX_INNER ? inner : BLOCK;
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < inner; c += width)
      columns(m, inputs, dst, o * n * inner + c, n, inner, Math.min(width, inner - c), reverse);
};

/** `w` columns from `base` on, down all `n` rows (`inner` apart), through the pages a chunk of rows at a time. */
const columns = (
  { memory, run, stateAt }: PlaneModule,
  inputs: readonly Float32Array[],
  dst: Float32Array,
  base: number,
  n: number,
  inner: number,
  w: number,
  reverse: boolean,
): void => {
  const heaps = inputs.map((_, k) => new Float32Array(memory.buffer, k * CHUNK * 4, CHUNK));
  const out = heaps[heaps.length - 1]!;
  new Float64Array(memory.buffer, stateAt, w).fill(0);
  const perChunk = Math.floor(CHUNK / w);
  const rowBytes = w * 4;
  for (let done = 0; done < n; done += perChunk) {
    const rows = Math.min(perChunk, n - done);
    // Forward: rows done..; reverse: the chunk ending `done` rows before the end, walked backwards.
    const first = base + (reverse ? n - done - rows : done) * inner;
    inputs.forEach((src, k) => {
      if (w === inner) heaps[k]!.set(src.subarray(first, first + rows * w));
      else for (let r = 0; r < rows; r++) heaps[k]!.set(src.subarray(first + r * inner, first + r * inner + w), r * w);
    });
    if (reverse) run((rows - 1) * rowBytes, rows, -rowBytes, rowBytes);
    else run(0, rows, rowBytes, rowBytes);
    if (w === inner) dst.set(out.subarray(0, rows * w), first);
    else for (let r = 0; r < rows; r++) dst.set(out.subarray(r * w, (r + 1) * w), first + r * inner);
  }
};
