/**
 * @file Float32 matrix products on the runner's WebAssembly memory (the arena holding its planned
 * float32 buffers, see `Pool.buffers` and `Module.instantiate`).
 *
 * The tensor package's matmul copies both operands into its own memory and the result back out
 * on every call; for the LSTM's per-step products that is the 256 KB recurrent weight and the
 * gates, a hundred times per training step. Here the kernels are instantiated on the arena, so an
 * operand that lives there is read in place; only an operand held elsewhere (a graph input, a
 * per-call output array) is staged through the staging area, whose tail is the kernels' packing
 * scratch. Same kernels, same bits as `T.matmul` (whose JS and WebAssembly paths agree exactly).
 */
import type { DType } from "@rewind/tensor";
import {
  arenaKernels,
  productScratchBytes,
  WASM_MIN_MACS,
  type ArenaKernels,
  type ArenaMatmul,
} from "@rewind/tensor/internal/codegen";

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/**
 * Whether a product runs on the runner's memory (`mma`, `mm2`) when SIMD is on: float32 and worth
 * the WebAssembly kernel (`Module.matmul` decides by it, and pairProducts.ts pairs only such).
 * @example onArena("float32", 32, 128, 512) // true
 */
export const onArena = (dtype: DType, m: number, k: number, n: number): boolean =>
  dtype === "float32" && m * k * n >= WASM_MIN_MACS;

/**
 * Bytes of staging area a product needs with every operand staged, plus packing scratch.
 * @example arenaMatmulBytes(32, 128, 512) // ≥ 4 · (32·128 + 128·512 + 32·512)
 */
export const arenaMatmulBytes = (m: number, k: number, n: number): number =>
  align64(4 * m * k) + align64(4 * k * n) + align64(4 * m * n) + productScratchBytes(m, k, n) + 64;

/**
 * The generated code's `mma(out, oo, a, ao, b, bo, m, k, n, tA, tB)`: `mm`'s signature (positional
 * for the same reason, see `matmul.ts`), float32 only.
 */
export type ArenaMatmulHelper = (
  out: Float32Array,
  oo: number,
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
) => void;

/**
 * Byte addresses of packing slots of `sizes` bytes, one after another from `start`, each 64-byte aligned.
 * @example slotAddresses(100, [10, 70]) // [128, 192]
 */
export const slotAddresses = (start: number, sizes: readonly number[]): number[] => {
  let at = align64(start);
  return sizes.map((bytes) => {
    const address = at;
    at += align64(bytes);
    return address;
  });
};

/**
 * The generated code's `mmp(slot, b, bo, k, n, tB)`: packs the k × n op(b) at `b[bo..]` into
 * packing slot `slot`, once before the products that reuse it (a scan's constant weight).
 */
export type ArenaPackHelper = (slot: number, b: Float32Array, bo: number, k: number, n: number, tB: boolean) => void;

/**
 * The generated code's `mmq(out, oo, a, ao, slot, m, k, n, tA)`: `mma` with b the one packed in
 * `slot` by `mmp` (same bits: the packed bytes are those `mma` would pack).
 */
export type ArenaPackedHelper = (
  out: Float32Array,
  oo: number,
  a: Float32Array,
  ao: number,
  slot: number,
  m: number,
  k: number,
  n: number,
  tA: boolean,
) => void;

/**
 * The generated code's `mm2(c1, o1, c2, o2, a, ao, b1, bo1, b2, bo2, m, k, n1, n2, tA, tB1, tB2)`:
 * c1 = op(a)·op(b1) and c2 = op(a)·op(b2), each k block of a packed once for both (the kernels'
 * `productPair`). Same bits as two `mma` calls.
 */
export type ArenaPairHelper = (
  c1: Float32Array,
  o1: number,
  c2: Float32Array,
  o2: number,
  a: Float32Array,
  ao: number,
  b1: Float32Array,
  bo1: number,
  b2: Float32Array,
  bo2: number,
  m: number,
  k: number,
  n1: number,
  n2: number,
  tA: boolean,
  tB1: boolean,
  tB2: boolean,
) => void;

/**
 * Staging bytes `mm2` needs with every operand staged: a, both b's and both c's, plus the wider
 * product's packing scratch.
 * @example arenaPairBytes(512, 2048, 128, 32) > arenaMatmulBytes(512, 2048, 128) // true
 */
export const arenaPairBytes = (m: number, k: number, n1: number, n2: number): number =>
  arenaMatmulBytes(m, k, Math.max(n1, n2)) + align64(4 * k * Math.min(n1, n2)) + align64(4 * m * Math.min(n1, n2));

/** The product helpers of a runner (see `makeArenaMatmul`). */
export interface ArenaHelpers {
  readonly mma: ArenaMatmulHelper;
  readonly mmp: ArenaPackHelper;
  readonly mmq: ArenaPackedHelper;
  readonly mm2: ArenaPairHelper;
}

/**
 * The product helpers for a runner whose arena is `memory` (its buffer never detaches: the memory
 * has a fixed size), staging from byte `stage` on (64-byte aligned), with packing slots at the
 * byte addresses `slots`. Null where the kernels cannot run. `kernels`: those of kernel threads
 * on a shared `memory` (see `arenaThreads`), else the kernels are instantiated here.
 * @example makeArenaMatmul(memory, stage, [])?.mma(out, 0, a, 0, b, 0, 32, 128, 512, false, false)
 */
export const makeArenaMatmul = (
  memory: { readonly buffer: ArrayBuffer },
  stage: number,
  slots: readonly number[],
  kernels: ArenaKernels | null = arenaKernels(memory),
): ArenaHelpers | null => {
  if (kernels === null) return null;
  const { product, packB, productPacked, productPair } = kernels;
  const arena = memory.buffer;
  const heap = new Float32Array(arena);
  // One record of addresses, rewritten by every call: the product runs hundreds of times per
  // training step (every scan step, forward and backward), and a fresh record per call was most
  // of what a compiled step allocated once its outputs were donated.
  const at = { aAt: 0, bAt: 0, cAt: 0, scratch: 0, m: 0, k: 0, n: 0, transA: false, transB: false };
  let st = stage;
  /** The byte address of `x`'s `size` elements from `off`: in place when in the arena, else staged at `st`. */
  const place = (x: Float32Array, off: number, size: number): number => {
    if (x.buffer === arena) return x.byteOffset + off * 4;
    heap.set(x.subarray(off, off + size), st >> 2);
    const address = st;
    st = align64(st + size * 4);
    return address;
  };
  /** Places the output and the scratch after the operands, runs `run`, copies a staged output out. */
  const into = (
    out: Float32Array,
    oo: number,
    m: number,
    k: number,
    n: number,
    tA: boolean,
    run: ArenaMatmul,
  ): void => {
    const inArena = out.buffer === arena;
    at.cAt = inArena ? out.byteOffset + oo * 4 : st;
    if (!inArena) st = align64(st + m * n * 4);
    at.scratch = st;
    at.m = m;
    at.k = k;
    at.n = n;
    at.transA = tA;
    run(at);
    if (!inArena) out.set(heap.subarray(at.cAt >> 2, (at.cAt >> 2) + m * n), oo);
  };
  return {
    mma: (out, oo, a, ao, b, bo, m, k, n, tA, tB) => {
      st = stage;
      at.aAt = place(a, ao, m * k);
      at.bAt = place(b, bo, k * n);
      at.transB = tB;
      into(out, oo, m, k, n, tA, product);
    },
    mm2: (c1, o1, c2, o2, a, ao, b1, bo1, b2, bo2, m, k, n1, n2, tA, tB1, tB2) => {
      st = stage;
      at.aAt = place(a, ao, m * k);
      at.bAt = place(b1, bo1, k * n1);
      at.transB = tB1;
      const second = { bAt: place(b2, bo2, k * n2), cAt: 0, n: n2, transB: tB2 };
      const inArena = c2.buffer === arena;
      second.cAt = inArena ? c2.byteOffset + o2 * 4 : st;
      if (!inArena) st = align64(st + m * n2 * 4);
      into(c1, o1, m, k, n1, tA, (first) => productPair(first, second));
      if (!inArena) c2.set(heap.subarray(second.cAt >> 2, (second.cAt >> 2) + m * n2), o2);
    },
    mmp: (slot, b, bo, k, n, tB) => {
      st = stage;
      packB(place(b, bo, k * n), k, n, tB, slots[slot]!);
    },
    mmq: (out, oo, a, ao, slot, m, k, n, tA) => {
      st = stage;
      at.aAt = place(a, ao, m * k);
      at.bAt = slots[slot]!;
      at.transB = false;
      into(out, oo, m, k, n, tA, productPacked);
    },
  };
};
