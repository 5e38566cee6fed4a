/**
 * @file The compiler's matmul path: the kernels of `matmulRuntime.ts` instantiated on a memory the
 * caller owns, computing on byte addresses in it (`ArenaProduct`), so operands that already live
 * there are not copied. A compiled runner keeps its planned buffers in such a memory; per step of
 * an LSTM this saves copying the 256 KB recurrent weight in and the gates out. Its module adds the
 * wide kernels (matmulWide.ts) and the stripe packers (matmulPackA.ts) to the eager one's
 * functions; nothing here is in a bundle that does not compile.
 */
import { wasmApi } from "./api.js";
import { defaultShape, matmulModuleBytes } from "./matmulWasm.js";
import { WIDE_PANELS, wideKernels } from "./matmulWide.js";
import { fastPackA, packAKernels } from "./matmulPackA.js";
import {
  align,
  kernelsOf,
  panels,
  product,
  runtime,
  type ArenaProduct,
  type Fn,
  type Kernels,
} from "./matmulRuntime.js";

// Captured once, as matmulRuntime.ts does.
const wasm = wasmApi();

/** The float32 product on byte addresses of a memory the caller owns (see `arenaKernels`). */
export type ArenaMatmul = (at: ArenaProduct) => void;

/**
 * The kernels on a memory the caller owns (see `arenaKernels`): `product` computes c = op(a) ·
 * op(b); `packB` writes a k × n op(b) at byte `bAt` in its packed form, `packedBBytes(k, n)` bytes
 * at `dst`; `productPacked` is `product` with `at.bAt` the address of such a packed b (`transB`
 * ignored). A product whose b stays the same over many calls (an RNN's recurrent weight, every
 * step of a scan) packs it once: the packed bytes are those `product` packs on every call, and a
 * product of a few rows, which reads b in place when alone, sums each element in the same k
 * order from the packed panels, so the bits are the same either way.
 */
export interface ArenaKernels {
  readonly product: ArenaMatmul;
  readonly packB: (bAt: number, k: number, n: number, transB: boolean, dst: number) => void;
  readonly productPacked: ArenaMatmul;
  /**
   * `product(at)` and the product of the same op(a) with `second`'s b into its c, packing each k
   * block of a once for both (an RNN's two weight gradients, dGᵀ·h and dGᵀ·x, read the same dG).
   * Same bits as the two products apart.
   */
  readonly productPair: (at: ArenaProduct, second: SecondProduct) => void;
}

/** The second product of `productPair`: its b (as `ArenaProduct`'s), its c and its columns. */
export interface SecondProduct {
  readonly bAt: number;
  readonly cAt: number;
  readonly n: number;
  readonly transB: boolean;
}

/** Columns of a packed b: n rounded up to whole micro-tile panels. */
const paddedColumns = (n: number): number => Math.ceil(n / (4 * defaultShape.nv)) * 4 * defaultShape.nv;

/**
 * Bytes of a packed k × n op(b) (every k block, one after another).
 * @example packedBBytes(128, 512) // 262144
 */
export const packedBBytes = (k: number, n: number): number => 4 * k * paddedColumns(n);

/** `product`'s packed path, with b packed ahead by `packB` (every k block at its place). */
const productPacked = (rt: Kernels, at: ArenaProduct): void => {
  const { aAt, bAt, cAt, scratch, m, k, n, transA } = at;
  const { mr, nv, kc: KC } = rt.shape;
  const paAt = align(scratch + 16 * mr * nv);
  const aRow = transA ? 4 : 4 * k;
  const aCol = transA ? 4 * (at.aStride ?? m) : 4;
  const blockStep = 4 * paddedColumns(n);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    rt.packA(aAt + p0 * aCol, aRow, aCol, paAt, m, kc);
    panels(rt, paAt, bAt + blockStep * p0, cAt, m, n, kc, p0 === 0 ? 1 : 0, scratch);
  }
};

/**
 * `product`'s blocked path for two products sharing op(a) (see `ArenaKernels.productPair`): each
 * k block of a is packed once, then each product packs its block of b and runs its panels, as
 * `product` does for more than `4 · mr` rows (fewer run as two products: `product` reads b in
 * place for them). The scratch must fit the wider product's.
 */
const productPair = (rt: Kernels, at: ArenaProduct, second: SecondProduct): void => {
  const { aAt, scratch, m, k, transA } = at;
  const { mr, nv, kc: KC } = rt.shape;
  if (m <= 4 * mr) {
    product(rt, at);
    product(rt, { ...at, ...second });
    return;
  }
  const paAt = align(scratch + 16 * mr * nv);
  const pbAt = align(paAt + 4 * m * Math.min(k, KC));
  const aRow = transA ? 4 : 4 * k;
  const aCol = transA ? 4 * (at.aStride ?? m) : 4;
  const parts = [at, second];
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    rt.packA(aAt + p0 * aCol, aRow, aCol, paAt, m, kc);
    for (const { bAt, cAt, n, transB } of parts) {
      const bRow = transB ? 4 : 4 * n;
      rt.packB(bAt + p0 * bRow, bRow, transB ? 4 * k : 4, pbAt, kc, n);
      panels(rt, paAt, pbAt, cAt, m, n, kc, p0 === 0 ? 1 : 0, scratch);
    }
  }
};

/** Packs a k × n op(b) as `product` packs it, every k block, into `packedBBytes(k, n)` bytes at dst. */
const packAll = (rt: Kernels, bAt: number, k: number, n: number, transB: boolean, dst: number): void => {
  const KC = rt.shape.kc;
  const bRow = transB ? 4 : 4 * n;
  const bCol = transB ? 4 * k : 4;
  const blockStep = 4 * paddedColumns(n);
  for (let p0 = 0; p0 < k; p0 += KC)
    rt.packB(bAt + p0 * bRow, bRow, bCol, dst + blockStep * p0, Math.min(KC, k - p0), n);
};

/**
 * The compiler's kernels module: the eager one's functions, the wide kernels (matmulWide.ts) and
 * the stripe packers (matmulPackA.ts).
 * @example new WebAssembly.Module(arenaModuleBytes())
 */
export const arenaModuleBytes = (): Uint8Array =>
  matmulModuleBytes(defaultShape, [...wideKernels(defaultShape), ...packAKernels(defaultShape)]);
let arenaModule: object | undefined;

/**
 * `kernels` with the stripes of 1 and 2 rows computing P panels at a time through `wide_R` (from
 * `exports`, an instance of `arenaModuleBytes`), the panels left over through the stripe itself.
 */
const withWideStripes = (kernels: Kernels, exports: Record<string, unknown>): Kernels => {
  const stripes = kernels.stripes.map((stripe, rows) => {
    const wide = exports[`wide_${rows}`] as Fn | undefined;
    const p = WIDE_PANELS[rows];
    if (wide === undefined || p === undefined) return stripe;
    // The stripe's arguments (see matmulWasm.ts): a, b, panelStep, ldb, bTail, c, ldc, kc, nFull, …
    return (a: number, b: number, step: number, ldb: number, tail: number, c: number, ...rest: number[]): void => {
      const [ldc, kc, nFull, w, first, tmp] = rest as [number, number, number, number, number, number];
      // Panel j's block of b starts j panel steps on, its tile of c j·NR floats on.
      const cStep = 16 * defaultShape.nv;
      let j = 0;
      for (; j + p <= nFull; j += p) wide(a, b + j * step, step, ldb, c + cStep * j, ldc, kc, first);
      stripe(a, b + j * step, step, ldb, tail, c + cStep * j, ldc, kc, nFull - j, w, first, tmp);
    };
  });
  return { ...kernels, stripes };
};

/**
 * The default-shape kernels instantiated on `memory` (a WebAssembly.Memory), computing on byte
 * addresses in it (see `ArenaKernels`; m, k, n ≥ 1), with `productScratchBytes(m, k, n)` bytes of
 * scratch at a 64-byte aligned address. Same bits as `matmulF32Wasm` (whose module lacks the
 * wide kernels). Null where the kernel cannot run here. `module`: `arenaModuleBytes` compiled to
 * import a shared memory, for a shared `memory` (see `sharedArenaKernels`); default the module
 * importing an unshared one.
 *
 * Rows of a product are independent (each output element is its own sum in k order), so a
 * product split into row ranges computed apart (`aAt`, `cAt` moved to the range, `aStride` the
 * whole m when a is transposed) gives the same bits as the whole.
 * @example
 * const kernels = arenaKernels(memory);
 * kernels?.product({ aAt: 0, bAt: 64, cAt: 128, scratch: 1024, m: 2, k: 2, n: 2, transA: false, transB: false });
 */
export const arenaKernels = (memory: object, module?: object): ArenaKernels | null => {
  const rt = runtime(defaultShape);
  if (rt === null || wasm === undefined) return null;
  arenaModule ??= new wasm.Module(arenaModuleBytes());
  const exports = new wasm.Instance(module ?? arenaModule, { env: { memory } }).exports;
  const wide = withWideStripes(kernelsOf(defaultShape, exports), exports);
  const kernels = { ...wide, packA: fastPackA(defaultShape, exports, wide.packA) };
  return {
    product: (at) => product(kernels, at),
    packB: (bAt, k, n, transB, dst) => packAll(kernels, bAt, k, n, transB, dst),
    productPacked: (at) => productPacked(kernels, at),
    productPair: (at, second) => productPair(kernels, at, second),
  };
};
