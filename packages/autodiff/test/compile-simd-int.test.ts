/**
 * @file int32 operands in the compiler's WebAssembly SIMD loops: an (in)equality of int32 values
 * (a one-hot's `ids == arange`) feeding float32 arithmetic runs as a SIMD kernel, its int32 reads
 * staged through the runner's memory, with the interpreter's bits and the JavaScript loop's; the
 * ids vary along the loop's inner axis or are one per row (a splat), and row lengths leave ragged
 * tails of 1–3 lanes. Other int32 comparisons stay in JavaScript. Each test checks the path taken.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, tensorOf, type GraphFn } from "./compileSupport.js";

/** Compiles `f` both ways (`compileBothWays`); the JS runner runs no SIMD kernel. Returns the SIMD runner. */
const expectSameBits = (label: string, f: GraphFn, args: readonly T.Tensor[]): A.CompiledGraph => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(js.simdKernels).toBe(0);
  return simd;
};

const ids = (shape: readonly number[]) => tensorOf(shape, "int32");

describe.runIf(T.getKernelBackend().large === "wasm")("compile: int32 (in)equality in WebAssembly SIMD loops", () => {
  it("a one-hot times float32 values, ids one per row (splat) and along the row, ragged tails", () => {
    for (const n of [4, 5, 7, 9, 89]) {
      fc.assert(
        fc.property(ids([40]), ids([n]), tensorOf([40, n], "float32"), (row, col, x) => {
          // ids[:, None] == arange-like ids[None, :]: the first is a splat per row, the second a vector read.
          const f = (r: Value, c: Value, v: Value): Value[] => {
            const hot = A.astype(A.equal(A.reshape(r, [40, 1]), A.reshape(c, [1, n])), "float32");
            const off = A.astype(A.notEqual(A.reshape(r, [40, 1]), A.reshape(c, [1, n])), "float32");
            return [A.neg(A.mul(hot, v)), A.add(off, v)];
          };
          const run = expectSameBits(`n ${n}`, f, [row, col, x]);
          expect(run.simdKernels, `n ${n}`).toBeGreaterThanOrEqual(1);
          expect(run.source).toContain("HI.set(");
        }),
        { numRuns: 8 },
      );
    }
  });

  it("an int32 compared with a scalar stays in JavaScript, with the interpreter's bits (2^24 + 1 included)", () => {
    // Scalars reach SIMD kernels as float32 lanes: equal(ids, 3) once compared 3's float bits with
    // int32 lanes and was false for every 3; 2^24 + 1 does not survive the float at all.
    const ids = T.fromDataOrThrow(
      Array.from({ length: 256 }, (_, i) => (i % 5 === 0 ? 3 : i % 7 === 0 ? 2 ** 24 + 1 : i)),
      [256],
      "int32",
    );
    for (const k of [3, 2 ** 24 + 1, 2 ** 24]) {
      const f = (a: Value, v: Value): Value => A.add(A.mul(A.astype(A.equal(a, k), "float32"), v), A.tanh(v));
      const run = expectSameBits(`equal ${k}`, f, [ids, T.ones([256])]);
      expect(run.simdKernels, `equal ${k}`).toBe(0);
    }
    // The eager op counts what a plain comparison counts (53 threes, 29 of 2^24 + 1, no 2^24).
    const hits = (k: number): number => T.sum(A.astype(A.equal(ids, k), "float32") as T.Tensor).data[0]!;
    const count = (k: number): number => Array.from(ids.data).filter((v) => v === k).length;
    expect([hits(3), hits(2 ** 24 + 1), hits(2 ** 24)]).toEqual([count(3), count(2 ** 24 + 1), count(2 ** 24)]);
    expect(count(3)).toBe(53);
  });

  it("int32 order comparisons stay in JavaScript", () => {
    const f = (a: Value, b: Value, v: Value): Value => A.mul(A.astype(A.less(a, b), "float32"), v);
    const run = expectSameBits("less", f, [T.arange(0, 64, 1, "int32"), T.full([64], 7, "int32"), T.ones([64])]);
    expect(run.simdKernels).toBe(0);
  });
});
