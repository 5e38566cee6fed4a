/**
 * @file The float32 matmul kernels: WebAssembly SIMD and pure JS give the same bits, both follow
 * the written arithmetic contract, transposed variants equal explicit transposes, `matmulInto`
 * respects offsets, scratch memory grows across calls, and the JS path takes over without SIMD.
 */
import { fc, test } from "@fast-check/vitest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { matmul, matmulInto, matmulKernel } from "../src/kernels/matmul.js";
import { getKernelBackend, setKernelBackend } from "../src/kernels/backend.js";
import { fromBuffer } from "../src/Tensor.js";
import { encodeModule, f32, FunctionBuilder, i32, sleb, uleb } from "../src/wasm/emitter.js";
import { matmulF32Js } from "../src/wasm/matmulJs.js";
import { seededFloats, TRANSPOSES } from "./seededFloats.js";
import { defaultShape, matmulModuleBytes, type KernelShape } from "../src/wasm/matmulWasm.js";
import { matmulF32Wasm, simdAvailable, wasmMatmulAvailable, wasmScratchBytes } from "../src/wasm/matmulRuntime.js";
import { throwsTensor } from "./helpers.js";

/** The engine's WebAssembly object (the package compiles without DOM typings, hence the cast). */
const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

// ---- data and references ----

/** Seeded values in [-1, 1) times a power of two in [2^-8, 2^8], so sums round often. */
const values = (count: number, seed: number): Float32Array => seededFloats(count, seed, 8);

/** Element (i, p) of op(a) for an m × k op(a) stored row-major (transposed: stored k × m). */
const at = (a: ArrayLike<number>, i: number, p: number, rows: number, cols: number, trans: boolean): number =>
  a[trans ? p * rows + i : i * cols + p]!;

/** The arithmetic contract, spelled out one element at a time. */
const contract = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
): Float32Array => {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc = Math.fround(acc + Math.fround(at(a, i, p, m, k, tA) * at(b, p, j, k, n, tB)));
      out[i * n + j] = acc;
    }
  }
  return out;
};

/** Exact-ish product in float64 and Σ|a·b| per element, for error bounds. */
const exact = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, tA: boolean, tB: boolean) => {
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const prod = at(a, i, p, m, k, tA) * at(b, p, j, k, n, tB);
        s += prod;
        mag += Math.abs(prod);
      }
      value[i * n + j] = s;
      magnitude[i * n + j] = mag;
    }
  }
  return { value, magnitude };
};

/** Same bits, treating any two NaNs as equal (NaN payloads are not part of the contract). */
const expectSameBits = (got: Float32Array, want: Float32Array): void => {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < got.length; i++) {
    if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      expect.fail(`element ${i}: ${got[i]} (0x${g[i]!.toString(16)}) vs ${want[i]} (0x${w[i]!.toString(16)})`);
    }
  }
};

const transposed = <T extends Float32Array | Float64Array>(x: T, rows: number, cols: number): T => {
  const out = new (x.constructor as new (n: number) => T)(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
  return out;
};

const runBoth = (
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
  seed: number,
  shape: KernelShape = defaultShape,
) => {
  const a = values(m * k, seed);
  const b = values(k * n, seed + 1);
  const viaWasm = new Float32Array(m * n).fill(NaN);
  const viaJs = new Float32Array(m * n).fill(NaN);
  expect(
    matmulF32Wasm({ out: viaWasm, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m, k, n, transA: tA, transB: tB }, shape),
  ).toBe(true);
  matmulF32Js({ out: viaJs, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m, k, n, transA: tA, transB: tB });
  return { a, b, viaWasm, viaJs };
};

afterEach(() => {
  setKernelBackend("auto");
});

// ---- tests ----

describe("the WebAssembly kernel is available and generated correctly", () => {
  it("detects SIMD on this engine (Node 20) and compiles the generated module", () => {
    expect(simdAvailable()).toBe(true);
    expect(wasmMatmulAvailable()).toBe(true);
    expect(getKernelBackend()).toEqual({ setting: "auto", large: "wasm" });
  });

  it("encodes LEB128 as the specification's examples", () => {
    const u: number[] = [];
    uleb(u, 624485);
    const s: number[] = [];
    sleb(s, -123456);
    const small: number[] = [];
    sleb(small, 63);
    sleb(small, 64);
    sleb(small, -64);
    sleb(small, -65);
    expect([u, s, small]).toEqual([
      [0xe5, 0x8e, 0x26],
      [0xc0, 0xbb, 0x78],
      [63, 0xc0, 0x00, 0x40, 0xbf, 0x7f],
    ]);
  });

  it("emits valid modules, and refuses names that are not plain identifiers", () => {
    const f = new FunctionBuilder("answer", [], [i32]);
    f.i32Const(-42);
    const g = new FunctionBuilder("half", [], [f32]);
    g.f32Const(1.5);
    expect(wasmApi.validate(encodeModule([f, g], 1))).toBe(true);
    expect(wasmApi.validate(matmulModuleBytes(defaultShape))).toBe(true);
    expect(() => encodeModule([new FunctionBuilder('a"b', [], [])], 1)).toThrow(/unexpected name/);
  });
});

describe("WebAssembly and JS give the same bits, which follow the contract", () => {
  it("1 × 1 × 1, k = 0, m = 0, n = 0", () => {
    for (const [tA, tB] of TRANSPOSES) {
      const one = runBoth(1, 1, 1, tA, tB, 3);
      expectSameBits(one.viaWasm, one.viaJs);
      expect(one.viaWasm[0]).toBe(Math.fround(one.a[0]! * one.b[0]!));
      const empty = runBoth(3, 0, 5, tA, tB, 4);
      expectSameBits(empty.viaWasm, new Float32Array(15)); // +0, not -0 or leftovers
      expectSameBits(empty.viaJs, new Float32Array(15));
      expect(runBoth(0, 4, 5, tA, tB, 5).viaWasm.length).toBe(0);
      expect(runBoth(4, 4, 0, tA, tB, 6).viaWasm.length).toBe(0);
    }
  });

  it("every row and column remainder of the register tile, and k across cache blocks", () => {
    const nr = 4 * defaultShape.nv;
    for (let m = 1; m <= 2 * defaultShape.mr + 1; m++) {
      for (let n = 1; n <= 2 * nr + 1; n++) {
        for (const [tA, tB] of TRANSPOSES) {
          const k = 1 + ((m * 7 + n * 3) % 9);
          const r = runBoth(m, k, n, tA, tB, m * 100 + n);
          expectSameBits(r.viaWasm, r.viaJs);
          expectSameBits(r.viaWasm, contract(r.a, r.b, m, k, n, tA, tB));
        }
      }
    }
    // m = 7 reads a row-major b in place; m = 4·MR + 3 packs it (see matmulWasm.ts).
    for (const m of [7, 4 * defaultShape.mr + 3]) {
      for (const k of [defaultShape.kc - 1, defaultShape.kc, defaultShape.kc + 1, 2 * defaultShape.kc + 3]) {
        for (const [tA, tB] of TRANSPOSES) {
          const r = runBoth(m, k, 11, tA, tB, k);
          expectSameBits(r.viaWasm, r.viaJs);
          expectSameBits(r.viaWasm, contract(r.a, r.b, m, k, 11, tA, tB));
        }
      }
    }
  });

  test.prop(
    [
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 1, max: 40 }),
      fc.constantFrom(...TRANSPOSES),
      fc.nat(),
    ],
    { numRuns: 60 },
  )("random shapes and all four transpositions", (m, k, n, [tA, tB], seed) => {
    const r = runBoth(m, k, n, tA, tB, seed);
    expectSameBits(r.viaWasm, r.viaJs);
    expectSameBits(r.viaJs, contract(r.a, r.b, m, k, n, tA, tB));
  });

  it("a large-ish 300 × 200 × 100 product, crossing the n chunk", () => {
    for (const [tA, tB] of TRANSPOSES) {
      const r = runBoth(300, 200, 100, tA, tB, 77);
      expectSameBits(r.viaWasm, r.viaJs);
    }
    const wide = runBoth(9, 40, defaultShape.nc + 13, false, false, 78);
    expectSameBits(wide.viaWasm, wide.viaJs);
  });

  it("signed zeros, subnormals, infinities and NaN", () => {
    const specials = [0, -0, 2 ** -149, -(2 ** -140), 2 ** -126, Infinity, -Infinity, NaN, 1, -1, 3e38, -3e38];
    const [m, k, n] = [9, 13, 17];
    const a = Float32Array.from({ length: m * k }, (_, i) => specials[(i * 5) % specials.length]!);
    const b = Float32Array.from({ length: k * n }, (_, i) => specials[(i * 7 + 3) % specials.length]!);
    const allZero = new Float32Array(m * k).fill(-0);
    for (const [x, y] of [
      [a, b],
      [allZero, b.map((v) => (Number.isFinite(v) ? Math.abs(v) : 1))],
    ] as const) {
      const w = new Float32Array(m * n);
      const j = new Float32Array(m * n);
      matmulF32Wasm({
        out: w,
        outOffset: 0,
        a: x,
        aOffset: 0,
        b: y,
        bOffset: 0,
        m,
        k,
        n,
        transA: false,
        transB: false,
      });
      matmulF32Js({ out: j, outOffset: 0, a: x, aOffset: 0, b: y, bOffset: 0, m, k, n, transA: false, transB: false });
      expectSameBits(w, j);
      expectSameBits(w, contract(x, y, m, k, n, false, false));
    }
  });

  it("holds for every generated kernel shape, not just the default", () => {
    const shapes: KernelShape[] = [
      { mr: 1, nv: 1, kc: 16, nc: 8 },
      { mr: 3, nv: 3, kc: 7, nc: 24 },
      { mr: 4, nv: 2, kc: 256, nc: 256 },
      { mr: 6, nv: 2, kc: 33, nc: 16 },
    ];
    for (const shape of shapes) {
      for (const [tA, tB] of TRANSPOSES) {
        const r = runBoth(14, 41, 27, tA, tB, shape.mr, shape);
        expectSameBits(r.viaWasm, r.viaJs);
      }
    }
    const out = new Float32Array(1);
    const one = Float32Array.of(1);
    expect(() =>
      matmulF32Wasm(
        { out, outOffset: 0, a: one, aOffset: 0, b: one, bOffset: 0, m: 1, k: 1, n: 1, transA: false, transB: false },
        { mr: 4, nv: 2, kc: 8, nc: 12 },
      ),
    ).toThrow(RangeError);
  });
});

describe("accuracy against a float64 triple loop", () => {
  it("nn, nt, tn and tt are within float32 rounding of the exact product", () => {
    const [m, k, n] = [37, 123, 29];
    for (const [tA, tB] of TRANSPOSES) {
      const r = runBoth(m, k, n, tA, tB, 11);
      const ref = exact(r.a, r.b, m, k, n, tA, tB);
      r.viaWasm.forEach((v, i) => {
        // One rounding per product and per sum: at most (k + 1) ulps of Σ|a·b| (first-order bound).
        expect(Math.abs(v - ref.value[i]!)).toBeLessThanOrEqual(
          (k + 1) * 2 ** -24 * ref.magnitude[i]! + 2 ** -149 * (k + 1),
        );
      });
    }
  });
});

describe("matmulInto", () => {
  it("writes exactly its block at the offsets, for float32 on both backends and float64", () => {
    for (const backend of ["wasm", "js"] as const) {
      setKernelBackend(backend);
      const out = new Float32Array(8).fill(-7);
      matmulInto(out, 3, Float32Array.of(99, 1, 2, 3, 4), 1, Float32Array.of(99, 99, 5, 6, 7, 8), 2, 2, 2, 2);
      expect(Array.from(out)).toEqual([-7, -7, -7, 19, 22, 43, 50, -7]);
    }
    const out = new Float64Array(8).fill(-7);
    matmulInto(out, 3, Float64Array.of(99, 1, 3, 2, 4), 1, Float64Array.of(99, 99, 5, 7, 6, 8), 2, 2, 2, 2, {
      transA: true,
      transB: true,
    });
    expect(Array.from(out)).toEqual([-7, -7, -7, 19, 22, 43, 50, -7]);
  });

  it("transposed operands equal matmulKernel on explicit transposes, bit for bit (float32 and float64)", () => {
    const [m, k, n] = [23, 70, 19];
    for (const [tA, tB] of TRANSPOSES) {
      for (const backend of ["wasm", "js"] as const) {
        setKernelBackend(backend);
        const a = values(m * k, 21);
        const b = values(k * n, 22);
        const want = new Float32Array(m * n);
        matmulKernel(want, 0, a, 0, b, 0, m, k, n);
        const got = new Float32Array(m * n + 5);
        matmulInto(got, 5, tA ? transposed(a, m, k) : a, 0, tB ? transposed(b, k, n) : b, 0, m, k, n, {
          transA: tA,
          transB: tB,
        });
        expectSameBits(got.subarray(5), want);
      }
      const a = Float64Array.from(values(m * k, 23), (v, i) => v + i * 1e-9);
      const b = Float64Array.from(values(k * n, 24), (v, i) => v - i * 1e-9);
      const want = new Float64Array(m * n);
      matmulKernel(want, 0, a, 0, b, 0, m, k, n);
      const got = new Float64Array(m * n);
      matmulInto(got, 0, tA ? transposed(a, m, k) : a, 0, tB ? transposed(b, k, n) : b, 0, m, k, n, {
        transA: tA,
        transB: tB,
      });
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it("rejects mixed buffer types and ranges outside a buffer", () => {
    throwsTensor(
      () => matmulInto(new Float32Array(4), 0, new Float64Array(4), 0, new Float32Array(4), 0, 2, 2, 2),
      "ValueError",
      "matmulInto",
      "Float32Array",
    );
    throwsTensor(
      () => matmulInto(new Float64Array(4), 1, new Float64Array(4), 0, new Float64Array(4), 0, 2, 2, 2),
      "ValueError",
      "argument `out`",
      "[1, 5)",
    );
    throwsTensor(
      () => matmulInto(new Float32Array(4), 0, new Float32Array(3), 0, new Float32Array(4), 0, 2, 2, 2),
      "ValueError",
      "argument `a`",
    );
  });
});

describe("scratch memory and backend selection", () => {
  it("grows for larger products, is reused for smaller ones, and stays correct across growth", () => {
    let before = wasmScratchBytes();
    for (const size of [5, 40, 130, 260, 40, 300]) {
      const r = runBoth(size, size + 3, size + 1, false, true, size);
      expectSameBits(r.viaWasm, r.viaJs);
      const now = wasmScratchBytes();
      expect(now).toBeGreaterThanOrEqual(before);
      // A 40³ product after a 260³ one fits in what is there: no growth.
      if (size === 40 && before > 1e6) expect(now).toBe(before);
      before = now;
    }
    // The largest product (300 × 303 × 301) needs ~1.1 MB of operands and result, plus packing.
    expect(before).toBeGreaterThan(4 * (300 * 303 + 303 * 301 + 300 * 301));
  });

  it("matmul gives identical tensors under every backend setting, batches included", () => {
    const a = fromBuffer("float32", [3, 17, 33], values(3 * 17 * 33, 31));
    const b = fromBuffer("float32", [33, 9], values(33 * 9, 32));
    const results = (["auto", "wasm", "js"] as const).map((s) => {
      setKernelBackend(s);
      return matmul(a, b).data as Float32Array;
    });
    expectSameBits(results[0]!, results[2]!);
    expectSameBits(results[1]!, results[2]!);
    expect(setKernelBackend("auto")).toBe("js");
  });

  it("falls back to the JS kernel, with the same results, where WebAssembly or SIMD is missing", async () => {
    const a = values(20 * 30, 41);
    const b = values(30 * 10, 42);
    const want = new Float32Array(200);
    matmulF32Wasm({
      out: want,
      outOffset: 0,
      a,
      aOffset: 0,
      b,
      bOffset: 0,
      m: 20,
      k: 30,
      n: 10,
      transA: false,
      transB: false,
    });
    // No WebAssembly at all, and a WebAssembly whose validator rejects SIMD.
    for (const stub of [undefined, Object.assign(Object.create(wasmApi) as object, { validate: () => false })]) {
      vi.stubGlobal("WebAssembly", stub);
      vi.resetModules();
      try {
        const fresh = await import("../src/kernels/matmul.js");
        const freshBackend = await import("../src/kernels/backend.js");
        const wasmFresh = await import("../src/wasm/matmulRuntime.js");
        expect(wasmFresh.wasmMatmulAvailable()).toBe(false);
        expect(freshBackend.getKernelBackend()).toEqual({ setting: "auto", large: "js" });
        // (A fresh module graph has its own TensorException class, so match the message.)
        expect(() => freshBackend.setKernelBackend("wasm")).toThrow(
          /setKernelBackend: WebAssembly SIMD is not available/,
        );
        const got = new Float32Array(200);
        fresh.matmulInto(got, 0, a, 0, b, 0, 20, 30, 10);
        expectSameBits(got, want);
      } finally {
        vi.unstubAllGlobals();
        vi.resetModules();
      }
    }
  });
});
