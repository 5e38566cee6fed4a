/**
 * @file The compiler's stripe packers (matmulPackA.ts) write exactly the bytes of `pack_a`, and
 * nothing past them: rows contiguous along k (vectors of four columns, then the last kc mod 4),
 * columns contiguous (a transposed `a`, also a column range of a wider one), other strides (all
 * left to `pack_a`), whole stripes and a shorter last one.
 */
import { describe, expect, it } from "vitest";
import { arenaModuleBytes } from "../src/wasm/matmulArena.js";
import { fastPackA, packAKernels } from "../src/wasm/matmulPackA.js";
import { defaultShape } from "../src/wasm/matmulWasm.js";
import { seededFloats } from "./seededFloats.js";

type Fn = (...args: number[]) => void;
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const W = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number }) => WasmMemory;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;
const memory = new W.Memory({ initial: 64 });
const { exports } = new W.Instance(new W.Module(arenaModuleBytes()), { env: { memory } });
const generic = exports["pack_a"] as Fn;
const fast = fastPackA(defaultShape, exports, generic);

const SRC = 0;
const DST = 1 << 21;
/** Floats written around the packed block: a packer writing past its block changes one. */
const SLACK = 64;

/** The packed block (and the slack after it) `pack` writes for the m × kc a at strides rs, cs (floats). */
const packed = (pack: Fn, m: number, kc: number, rs: number, cs: number): number[] => {
  const heap = new Float32Array(memory.buffer);
  const extent = (m - 1) * rs + (kc - 1) * cs + 1;
  heap.set(seededFloats(extent, m * 1000 + kc, 4), SRC / 4);
  heap.fill(-7, DST / 4, DST / 4 + m * kc + SLACK);
  pack(SRC, 4 * rs, 4 * cs, DST, m, kc);
  return Array.from(new Uint32Array(memory.buffer, DST, m * kc + SLACK));
};

describe("the stripe packers", () => {
  it("are pack_a_cols and, for stripes of 5 rows, pack_a_rows", () => {
    expect(packAKernels(defaultShape).map((f) => f.name)).toEqual(["pack_a_cols", "pack_a_rows"]);
    expect(packAKernels({ ...defaultShape, mr: 4 }).map((f) => f.name)).toEqual(["pack_a_cols"]);
  });

  it("write pack_a's bytes for every layout, whole stripes and a shorter last one", () => {
    for (const m of [1, 4, 5, 6, 10, 13, 32])
      for (const kc of [1, 3, 4, 7, 8, 130])
        for (const [layout, rs, cs] of [
          ["rows", kc, 1],
          ["rows, wider a", kc + 3, 1],
          ["columns", 1, m],
          ["columns of a wider a", 1, m + 9],
          ["strided", 2 * kc, 2],
        ] as const) {
          const want = packed(generic, m, kc, rs, cs);
          expect(packed(fast, m, kc, rs, cs), `${layout} m ${m} kc ${kc}`).toEqual(want);
        }
  });
});
