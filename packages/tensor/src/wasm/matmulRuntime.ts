/**
 * @file Running the float32 matmul kernels of `matmulWasm.ts`: the feature test, one compiled
 * module per kernel shape, and two ways to call a product.
 * - `matmulF32Wasm` (the tensor kernels' path): one WebAssembly.Memory shared by all calls and
 *   grown (never shrunk) when a call needs more. Each call copies `a` and `b` in and the result
 *   out with `TypedArray.set` (a memcpy): 4·(mk + kn + mn) bytes, 0.07 ms for 512² (measured),
 *   against ~6 ms of arithmetic; packing reads everything once more inside WebAssembly.
 * - `arenaKernels` (the compiler's path, matmulArena.ts): the kernels instantiated on a memory the
 *   caller owns, computing on byte addresses in it (`ArenaProduct`).
 * Both run the same product (`product`) and so give the same bits.
 */
import type { MatmulArgs } from "../kernels/matmulArgs.js";
import { wasmApi, type WasmMemory } from "./api.js";
import { encodeModule, FunctionBuilder } from "./emitter.js";
import { defaultShape, matmulModuleBytes, type KernelShape } from "./matmulWasm.js";
import { codegenRefused } from "./policy.js";

// Captured once: every runtime this module builds uses the engine it was loaded in.
const wasm = wasmApi();

/** A module with one SIMD instruction: validates only where 128-bit SIMD is supported. */
const simdProbe = (): Uint8Array => {
  const f = new FunctionBuilder("probe", [], []);
  f.v128Zero().v128Zero().simd("f32x4Add").op("drop");
  return encodeModule([f], 0);
};

/**
 * Whether this engine runs WebAssembly with 128-bit SIMD (validates a tiny SIMD module) and lets
 * this program compile it: a Content-Security-Policy may refuse (`policy.ts`, which warns once).
 * @example simdAvailable() // true on Node ≥ 16.4 and current browsers
 */
export const simdAvailable = (): boolean => {
  let valid: boolean;
  try {
    valid = wasm !== undefined && wasm.validate(simdProbe());
  } catch {
    valid = false;
  }
  // Asked only where SIMD would run, so an engine without it never probes (nor warns).
  return valid && !codegenRefused("wasm");
};

// ---- the runtime: one compiled module and one shared instance per kernel shape ----

/** A kernel function of an instance. */
export type Fn = (...args: number[]) => void;
/** The kernels of one instance. */
export interface Kernels {
  readonly shape: KernelShape;
  readonly stripes: readonly Fn[];
  readonly packA: Fn;
  readonly packB: Fn;
}
interface Runtime extends Kernels {
  readonly module: object;
  readonly memory: WasmMemory;
  heap: Float32Array;
}
/** Built runtimes by shape (`null`: this engine cannot run it), so each shape compiles once. */
const runtimes = new Map<string, Runtime | null>();
const shapeKey = (s: KernelShape): string => (s === defaultShape ? "default" : `${s.mr},${s.nv},${s.kc},${s.nc}`);

export const kernelsOf = (shape: KernelShape, exports: Record<string, unknown>): Kernels => {
  const fn = (name: string): Fn => exports[name] as Fn;
  const stripes = Array.from({ length: shape.mr + 1 }, (_, r) => fn(`stripe_${Math.max(r, 1)}`));
  return { shape, stripes, packA: fn("pack_a"), packB: fn("pack_b") };
};

const instantiate = (shape: KernelShape): Runtime | null => {
  const { mr, nv, kc, nc } = shape;
  const ok = [mr, nv, kc, nc].every((x) => Number.isInteger(x) && x >= 1) && nc % (4 * nv) === 0;
  if (!ok) throw new RangeError(`matmulWasm: invalid kernel shape ${JSON.stringify(shape)}`);
  if (wasm === undefined || !simdAvailable()) return null;
  try {
    const memory = new wasm.Memory({ initial: 1 });
    const module = new wasm.Module(matmulModuleBytes(shape));
    const { exports } = new wasm.Instance(module, { env: { memory } });
    return { ...kernelsOf(shape, exports), module, memory, heap: new Float32Array(memory.buffer) };
  } catch {
    // e.g. browsers refusing synchronous compilation on the main thread: the JS kernel takes over.
    return null;
  }
};

export const runtime = (shape: KernelShape): Runtime | null => {
  const key = shapeKey(shape);
  let rt = runtimes.get(key);
  if (rt === undefined) runtimes.set(key, (rt = instantiate(shape)));
  return rt;
};

/**
 * Whether the WebAssembly kernel can run here (SIMD supported and the module compiled).
 * @example wasmMatmulAvailable() // true on Node 20
 */
export const wasmMatmulAvailable = (): boolean => runtime(defaultShape) !== null;

/**
 * Bytes of WebAssembly memory the default kernel holds as scratch (0 before its first call). It
 * only grows: the largest product so far sets it, and later calls reuse it without allocating.
 * @example wasmScratchBytes() // e.g. 5373952 after a 512 × 512 product
 */
export const wasmScratchBytes = (): number => runtimes.get(shapeKey(defaultShape))?.memory.buffer.byteLength ?? 0;

export const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Makes the memory at least `bytes` long; false if the engine refuses to grow it. */
const reserve = (rt: Runtime, bytes: number): boolean => {
  const have = rt.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      rt.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return false;
    }
  }
  // Growing detaches the old ArrayBuffer, so the view is refreshed whenever the buffer changed.
  if (rt.heap.buffer !== rt.memory.buffer) rt.heap = new Float32Array(rt.memory.buffer);
  return true;
};

/**
 * Bytes of scratch `product` needs from its scratch address: the micro-tile, the packed block
 * of `a` and the packed block of `b`.
 * @example productScratchBytes(32, 128, 512) // 4 · (tile + 32·128 + 512·128), each 64-byte aligned
 */
export const productScratchBytes = (m: number, k: number, n: number, shape: KernelShape = defaultShape): number => {
  const nr = 4 * shape.nv;
  const kcMax = Math.min(k, shape.kc);
  return align(4 * shape.mr * nr) + align(4 * m * kcMax) + align(4 * Math.ceil(n / nr) * nr * kcMax);
};

/**
 * c = op(a) · op(b) on byte addresses in the kernels' memory (see `ArenaProduct`).
 */
export const product = (rt: Kernels, at: ArenaProduct): void => {
  const { aAt, bAt, cAt, scratch, m, k, n, transA, transB } = at;
  const { mr, nv, kc: KC } = rt.shape;
  const nr = 4 * nv;
  const kcMax = Math.min(k, KC);
  // Scratch layout (bytes): tile | packed a block | packed b block.
  const tile = scratch;
  const paAt = align(tile + 4 * mr * nr);
  const pbAt = align(paAt + 4 * m * kcMax);
  // Byte strides of a[i, p] and b[p, j] as stored (plain ternaries: a destructured pair literal
  // allocated two arrays per product, and the compiler calls this hundreds of times a step).
  const aRow = transA ? 4 : 4 * k;
  const aCol = transA ? 4 * (at.aStride ?? m) : 4;
  const bRow = transB ? 4 : 4 * n;
  const bCol = transB ? 4 * k : 4;
  const inPlace = !transB && m <= 4 * mr;
  const nFullAll = Math.floor(n / nr);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    const first = p0 === 0 ? 1 : 0;
    rt.packA(aAt + p0 * aCol, aRow, aCol, paAt, m, kc);
    if (inPlace) {
      // b read where it is; only its ragged last columns are packed (zero-padded) at pbAt.
      const b0 = bAt + p0 * bRow;
      rt.packB(b0 + nFullAll * nr * 4, bRow, 4, pbAt, kc, n - nFullAll * nr);
      for (let i0 = 0; i0 < m; i0 += mr) {
        const rows = Math.min(mr, m - i0);
        rt.stripes[rows]!(
          paAt + 4 * i0 * kc,
          b0,
          4 * nr,
          bRow,
          pbAt,
          cAt + 4 * i0 * n,
          4 * n,
          kc,
          nFullAll,
          n - nFullAll * nr,
          first,
          tile,
        );
      }
      continue;
    }
    rt.packB(bAt + p0 * bRow, bRow, bCol, pbAt, kc, n);
    panels(rt, paAt, pbAt, cAt, m, n, kc, first, tile);
  }
};

/** The stripes of one k block, b packed at `pbAt` (as `pack_b` writes it), into c at `cAt`. */
export const panels = (
  rt: Kernels,
  paAt: number,
  pbAt: number,
  cAt: number,
  m: number,
  n: number,
  kc: number,
  first: number,
  tile: number,
): void => {
  const { mr, nv, nc: NC } = rt.shape;
  const nr = 4 * nv;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const cols = Math.min(NC, n - j0);
    const nFull = Math.floor(cols / nr);
    const pb = pbAt + 4 * j0 * kc;
    const panel = 4 * nr * kc;
    for (let i0 = 0; i0 < m; i0 += mr) {
      const rows = Math.min(mr, m - i0);
      rt.stripes[rows]!(
        paAt + 4 * i0 * kc,
        pb,
        panel,
        4 * nr,
        pb + nFull * panel,
        cAt + 4 * (i0 * n + j0),
        4 * n,
        kc,
        nFull,
        cols - nFull * nr,
        first,
        tile,
      );
    }
  }
};

/**
 * `out[outOffset ..+ m·n] = op(a) · op(b)` in float32 (see the arithmetic contract in
 * matmulWasm.ts, and `MatmulArgs` for the layouts), with the kernels of `shape`. Returns false,
 * having written nothing, if WebAssembly is unavailable or memory cannot grow.
 * @example
 * const out = new Float32Array(1);
 * const [a, b] = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
 * matmulF32Wasm({ out, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 1, k: 2, n: 1 }); // out [11]
 */
export const matmulF32Wasm = (args: MatmulArgs<Float32Array>, shape: KernelShape = defaultShape): boolean => {
  const { out, outOffset: oo, a, aOffset: ao, b, bOffset: bo, m, k, n } = args;
  const rt = runtime(shape);
  if (rt === null) return false;
  if (m === 0 || n === 0) return true;
  if (k === 0) {
    out.fill(0, oo, oo + m * n);
    return true;
  }
  // Layout (bytes): a | b | c | scratch.
  const aAt = 0;
  const bAt = align(aAt + 4 * m * k);
  const cAt = align(bAt + 4 * k * n);
  const scratch = align(cAt + 4 * m * n);
  const end = scratch + productScratchBytes(m, k, n, shape);
  if (end > 2 ** 31 || !reserve(rt, end)) return false;
  const heap = rt.heap;
  heap.set(a.subarray(ao, ao + m * k), aAt >> 2);
  heap.set(b.subarray(bo, bo + k * n), bAt >> 2);
  const transA = args.transA === true;
  const transB = args.transB === true;
  product(rt, { aAt, bAt, cAt, scratch, m, k, n, transA, transB });
  out.set(heap.subarray(cAt >> 2, (cAt >> 2) + m * n), oo);
  return true;
};

/**
 * One product on byte addresses in the kernels' memory: c = op(a) · op(b) (m, k, n ≥ 1; layouts
 * as `MatmulArgs`, row-major, 4 bytes an element), using `productScratchBytes(m, k, n)` bytes of
 * scratch at `scratch` (64-byte aligned).
 */
export interface ArenaProduct {
  /** Byte address of a's storage. */
  readonly aAt: number;
  /** Byte address of b's storage. */
  readonly bAt: number;
  /** Byte address of the product. */
  readonly cAt: number;
  /** Byte address of the scratch area. */
  readonly scratch: number;
  /** Rows of op(a) and of c. */
  readonly m: number;
  /** Columns of op(a), rows of op(b). */
  readonly k: number;
  /** Columns of op(b) and of c. */
  readonly n: number;
  /** a is stored k × m (transposed). */
  readonly transA: boolean;
  /** b is stored n × k (transposed). */
  readonly transB: boolean;
  /**
   * Elements between consecutive rows of a transposed a as stored (default m): a kernel thread
   * computing rows r0.. of op(a) reads columns r0.. of a wider stored a (see `arenaKernels`).
   */
  readonly aStride?: number | undefined;
}
