/**
 * @file The matmul kernels on a shared WebAssembly memory (kernel threads, @rewind/workers/node):
 * `shareMemoryImport` makes a generated module instantiable on a shared memory, and a product
 * computed in row ranges (`aStride` for a transposed a) has the bits of the whole product, for
 * every layout, on a shared memory as on an unshared one.
 */
import { describe, expect, it } from "vitest";
import { encodeModule, FunctionBuilder, i32 } from "../src/wasm/emitter.js";
import { productScratchBytes, type ArenaProduct } from "../src/wasm/matmulRuntime.js";
import { arenaKernels, packedBBytes } from "../src/wasm/matmulArena.js";
import { shareMemoryImport, sharedArenaKernels } from "../src/wasm/sharedKernels.js";
import { seededFloats, TRANSPOSES } from "./seededFloats.js";

interface Memory {
  readonly buffer: ArrayBuffer;
}
const W = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => Memory;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => object;
    };
  }
).WebAssembly;

/** Seeded values in [-1, 1) times a power of two, so that sums round often. */
const fill = (out: Float32Array, seed: number): void => out.set(seededFloats(out.length, seed, 4));

describe("shareMemoryImport", () => {
  it("turns a module that only an unshared memory links into one a shared memory links", () => {
    const f = new FunctionBuilder("answer", [], [i32]);
    f.i32Const(42);
    const bytes = encodeModule([f], 1);
    const shared = new W.Memory({ initial: 1, maximum: 4, shared: true });
    expect(() => new W.Instance(new W.Module(bytes), { env: { memory: shared } })).toThrow();
    const instance = new W.Instance(new W.Module(shareMemoryImport(bytes)), { env: { memory: shared } }) as {
      exports: { answer: () => number };
    };
    expect(instance.exports.answer()).toBe(42);
  });
});

describe("a product computed in row ranges", () => {
  const [m, k, n] = [37, 70, 45];
  // Layout (bytes): a | b | c whole | c in parts | two scratch areas.
  const aAt = 0;
  const bAt = 4 * 4096;
  const cAt = 2 * 4 * 4096;
  const partsAt = 3 * 4 * 4096;
  const scratch = [4 * 4 * 4096, 4 * 4 * 4096 + productScratchBytes(m, k, n)];
  const packedAt = scratch[1]! + productScratchBytes(m, k, n);
  const bytes = packedAt + packedBBytes(k, n);

  for (const shared of [false, true])
    for (const [transA, transB] of TRANSPOSES)
      it(`has the whole product's bits (${shared ? "shared" : "unshared"} memory, transA ${transA}, transB ${transB})`, () => {
        const pages = Math.ceil(bytes / 65536);
        const memory = new W.Memory({ initial: pages, maximum: pages, ...(shared ? { shared: true } : {}) });
        const kernels = (shared ? sharedArenaKernels(memory) : arenaKernels(memory))!;
        const heap = new Float32Array(memory.buffer);
        fill(heap.subarray(aAt / 4, aAt / 4 + m * k), 1);
        fill(heap.subarray(bAt / 4, bAt / 4 + k * n), 2);
        kernels.packB(bAt, k, n, transB, packedAt);
        // The product, then with b packed ahead (as a scan's weight is).
        for (const [run, b] of [
          [kernels.product, bAt],
          [kernels.productPacked, packedAt],
        ] as const) {
          const whole: ArenaProduct = { aAt, bAt: b, cAt, scratch: scratch[0]!, m, k, n, transA, transB };
          run(whole);
          // Rows [0, 16) and [16, m) apart, as a kernel thread computes them.
          for (const [r0, r1, s] of [
            [0, 16, scratch[0]!],
            [16, m, scratch[1]!],
          ] as const)
            run({
              ...whole,
              aAt: aAt + 4 * r0 * (transA ? 1 : k),
              cAt: partsAt + 4 * r0 * n,
              scratch: s,
              m: r1 - r0,
              aStride: transA ? m : undefined,
            });
          const c = heap.slice(cAt / 4, cAt / 4 + m * n);
          expect(c.some((x) => x !== 0)).toBe(true);
          expect(new Uint32Array(heap.slice(partsAt / 4, partsAt / 4 + m * n).buffer)).toEqual(
            new Uint32Array(c.buffer),
          );
        }
      });
});
