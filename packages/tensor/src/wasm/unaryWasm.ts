/**
 * @file float32 e^x, tanh and the logistic over whole arrays in WebAssembly SIMD, for the tensor
 * kernels (the interpreter's path).
 *
 * In JavaScript, `f32math.ts` has to round every operation with `Math.fround`, which puts two
 * conversions on the polynomial's dependency chain: ~21 ns an element against ~9 for `Math.exp`.
 * Four lanes of real float32 arithmetic run the same operations (same bits, see `f32mathWasm.ts`)
 * at a fraction of that, so above `MAP_MIN` elements the kernels copy the input into this module's
 * memory chunk by chunk, map it there and copy the result out. The memory is one 64 KB page.
 */
import { wasmApi, type WasmMemory } from "./api.js";
import { encodeModule, FunctionBuilder, i32, v128 } from "./emitter.js";
import { emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4 } from "./f32mathWasm.js";
import { simdAvailable } from "./matmulRuntime.js";

/** The functions mapped here. */
export type MappedF32 = "exp" | "tanh" | "sigmoid";

const EMITTERS: Readonly<Record<MappedF32, (f: FunctionBuilder, x: number) => void>> = {
  exp: emitExpF32x4,
  tanh: emitTanhF32x4,
  sigmoid: emitSigmoidF32x4,
};

/** Below this many elements the copies and the call cost more than the JavaScript loop. */
export const MAP_MIN = 64;

/** `map_<op>(at, bytes)`: maps the float32 values in [at, at + bytes) in place, 16 bytes at a time. */
const mapFunction = (op: MappedF32): FunctionBuilder => {
  const f = new FunctionBuilder(`map_${op}`, [i32, i32], []);
  const [at, bytes] = [0, 1];
  const end = f.local(i32),
    x = f.local(v128);
  f.get(at).get(bytes).op("i32Add").set(end);
  f.block().get(bytes).op("i32Eqz").brIf(0).loop();
  f.get(at).v128Load().set(x);
  f.get(at);
  EMITTERS[op](f, x);
  f.v128Store();
  f.get(at).i32Const(16).op("i32Add").tee(at).get(end).op("i32LtU").brIf(0);
  f.op("end").op("end");
  return f;
};

interface State {
  readonly memory: WasmMemory;
  readonly fns: Readonly<Record<MappedF32, (at: number, bytes: number) => void>>;
}
let state: State | null | undefined;

const instantiate = (): State | null => {
  const api = wasmApi();
  if (api === undefined || !simdAvailable()) return null;
  try {
    const memory = new api.Memory({ initial: 1 });
    const ops: MappedF32[] = ["exp", "tanh", "sigmoid"];
    const { exports } = new api.Instance(new api.Module(encodeModule(ops.map(mapFunction), 1)), { env: { memory } });
    const fns = Object.fromEntries(ops.map((op) => [op, exports[`map_${op}`]])) as State["fns"];
    return { memory, fns };
  } catch {
    return null;
  }
};

/** Elements mapped per call: 64 KB, so the copies and the map stay in cache and memory stays one page. */
const CHUNK = 16384;

/**
 * out[0..n) = op(src[0..n)) with the float32 definitions of `f32math.ts`, in WebAssembly SIMD,
 * `CHUNK` elements at a time through one fixed 64 KB page (nothing grows with n).
 * Returns false, having written nothing, where WebAssembly SIMD is unavailable.
 * @example mapF32Wasm("exp", Float32Array.of(0, 1), new Float32Array(2), 2) // true; out [1, 2.7182817]
 */
export const mapF32Wasm = (op: MappedF32, src: Float32Array, out: Float32Array, n: number): boolean => {
  if (state === undefined) state = instantiate();
  if (state === null) return false;
  const heap = new Float32Array(state.memory.buffer, 0, CHUNK);
  const map = state.fns[op];
  for (let at = 0; at < n; at += CHUNK) {
    const len = Math.min(CHUNK, n - at);
    heap.set(src.subarray(at, at + len));
    // Lanes past the end of a ragged last vector map zeros and are not copied out.
    if (len % 4 !== 0) heap.fill(0, len, len + 4 - (len % 4));
    map(0, Math.ceil(len / 4) * 16);
    out.set(heap.subarray(0, len), at);
  }
  return true;
};
