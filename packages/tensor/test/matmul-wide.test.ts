/**
 * @file The compiler's matmul kernels (`arenaKernels`, whose module adds the wide kernels of
 * matmulWide.ts): stripes of 1 and 2 rows computed 4 and 2 panels at a time give the bits of the
 * JS kernel (the arithmetic contract), through `product` (b in place or packed per call) and
 * `productPacked` (b packed ahead), with panels left over, ragged columns and k across blocks.
 */
import { describe, expect, it } from "vitest";
import { matmulF32Js } from "../src/wasm/matmulJs.js";
import { productScratchBytes } from "../src/wasm/matmulRuntime.js";
import { arenaKernels, packedBBytes } from "../src/wasm/matmulArena.js";
import { defaultShape } from "../src/wasm/matmulWasm.js";
import { wideKernels } from "../src/wasm/matmulWide.js";
import { seededFloats, TRANSPOSES } from "./seededFloats.js";

const { Memory } = (
  globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }
).WebAssembly;
const memory = new Memory({ initial: 512 });
const kernels = arenaKernels(memory)!;

const bitsOf = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** c = op(a)·op(b) by `product` and by `productPacked`, in the arena memory, and by the JS kernel. */
const products = (m: number, k: number, n: number, transA: boolean, transB: boolean, seed: number) => {
  const a = seededFloats(m * k, seed, 4);
  const b = seededFloats(k * n, seed + 1, 4);
  const heap = new Float32Array(memory.buffer);
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const aAt = 0;
  const bAt = align(4 * m * k);
  const packed = align(bAt + 4 * k * n);
  const cAt = align(packed + packedBBytes(k, n));
  const scratch = align(cAt + 4 * m * n);
  expect(scratch + productScratchBytes(m, k, n)).toBeLessThan(memory.buffer.byteLength);
  heap.set(a, aAt / 4);
  heap.set(b, bAt / 4);
  const read = (): Float32Array => heap.slice(cAt / 4, cAt / 4 + m * n);
  heap.fill(NaN, cAt / 4, cAt / 4 + m * n);
  kernels.product({ aAt, bAt, cAt, scratch, m, k, n, transA, transB });
  const viaProduct = read();
  kernels.packB(bAt, k, n, transB, packed);
  heap.fill(NaN, cAt / 4, cAt / 4 + m * n);
  kernels.productPacked({ aAt, bAt: packed, cAt, scratch, m, k, n, transA, transB: false });
  const viaPacked = read();
  const viaJs = new Float32Array(m * n);
  matmulF32Js({ out: viaJs, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m, k, n, transA, transB });
  return { viaProduct, viaPacked, viaJs };
};

describe("the wide kernels", () => {
  it("are the module's wide_1 (4 panels) and wide_2 (2 panels)", () => {
    expect(wideKernels(defaultShape).map((f) => f.name)).toEqual(["wide_1", "wide_2"]);
  });

  it("give the JS kernel's bits for stripes of 1 and 2 rows, every layout, panels left over", () => {
    const { mr, nv, kc } = defaultShape;
    const nr = 4 * nv;
    // m ≤ 4·MR reads a row-major b in place in `product`, larger m packs it; KC + 5 crosses a k block.
    for (const m of [1, 2, mr + 1, mr + 2, 4 * mr + 1, 4 * mr + 2])
      for (const n of [2 * nr, 4 * nr - 1, 4 * nr, 5 * nr + 3, 9 * nr + 5])
        for (const k of [3, kc + 5])
          for (const [transA, transB] of TRANSPOSES) {
            const r = products(m, k, n, transA, transB, m * n + k);
            const want = bitsOf(r.viaJs);
            expect(bitsOf(r.viaProduct), `product ${m}×${k}×${n} ${transA} ${transB}`).toEqual(want);
            expect(bitsOf(r.viaPacked), `productPacked ${m}×${k}×${n} ${transA}`).toEqual(want);
          }
  });
});
