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

  it("int32 order comparisons stay in JavaScript", () => {
    const f = (a: Value, b: Value, v: Value): Value => A.mul(A.astype(A.less(a, b), "float32"), v);
    const run = expectSameBits("less", f, [T.arange(0, 64, 1, "int32"), T.full([64], 7, "int32"), T.ones([64])]);
    expect(run.simdKernels).toBe(0);
  });
});
