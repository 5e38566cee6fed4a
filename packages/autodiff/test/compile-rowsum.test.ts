/**
 * @file Sum kernels: the float32 sum over leading axes (a bias gradient) as a WebAssembly SIMD
 * kernel gives the interpreter's bits and the JavaScript kernel's, awkward values included (NaN,
 * ±Infinity, ±0, overflowing sums), for row lengths that are 16-column chunks, 4-column chunks and
 * both; an input outside the runner's memory falls back to the JavaScript kernel. Sums over the
 * last axes run four outputs at a time, with the same bits. Each test checks the path taken.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, tensorOf, type GraphFn } from "./compileSupport.js";

/** Compiles `f` both ways (`compileBothWays`); the JS runner has no WebAssembly. Returns the SIMD source. */
const expectSameBits = (label: string, f: GraphFn, args: readonly T.Tensor[]): string => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(js.source).not.toContain("(WebAssembly)");
  return simd.source;
};

describe.runIf(T.getKernelBackend().large === "wasm")("compile: float32 sums over leading axes in WebAssembly", () => {
  it("sums over the first axis and the first two, in the runner's memory, bit for bit", () => {
    for (const n of [4, 12, 16, 20, 36, 64]) {
      fc.assert(
        fc.property(tensorOf([3, 5, n], "float32"), (x) => {
          // neg keeps the summed values in the runner's memory (a graph input is not).
          const f = (v: Value): Value[] => [A.sum(A.neg(v), { axis: 0 }), A.sum(A.neg(v), { axis: [0, 1] })];
          const source = expectSameBits(`n ${n}`, f, [x]);
          expect(source.match(/\(WebAssembly\)/g)?.length, `n ${n}`).toBe(2);
        }),
        { numRuns: 6 },
      );
    }
  });

  it("sums that overflow float32 and mix signs, in the order of the JavaScript kernel", () => {
    const big = fc.constantFrom(3.4e38, -3.4e38, 1e30, -1e30, 1, -1, 1e-45, -0, 0);
    fc.assert(
      fc.property(tensorOf([9, 8], "float32", big), (x) => {
        const source = expectSameBits("overflow", (v) => A.sum(A.neg(v), { axis: 0 }), [x]);
        expect(source).toContain("(WebAssembly)");
      }),
      { numRuns: 20 },
    );
  });

  it("sums over the last axes, four outputs at a time (and the rest one by one), bit for bit", () => {
    for (const [shape, axis] of [
      [[9, 7], -1],
      [[16, 89], -1],
      [
        [10, 3, 5],
        [1, 2],
      ],
    ] as const) {
      fc.assert(
        fc.property(tensorOf(shape, "float32"), tensorOf(shape, "float64"), (x32, x64) => {
          const f = (a: Value, b: Value): Value[] => [A.sum(a, { axis }), A.sum(b, { axis })];
          const source = expectSameBits(`${shape.join("×")}`, f, [x32, x64]);
          expect(source).toContain("by fours");
        }),
        { numRuns: 6 },
      );
    }
  });

  it("rows whose length is not a multiple of 4 stay in JavaScript; an input outside the runner's memory falls back", () => {
    const odd = expectSameBits("n 89", (v) => A.sum(A.neg(v), { axis: 0 }), [T.ones([6, 89])]);
    expect(odd).not.toContain("(WebAssembly)");
    // The graph input itself: the wrapper sees a buffer outside its memory and runs the JS kernel.
    const x = T.random.uniform(T.random.key(3), [7, 32], { min: -1, max: 1 });
    const direct = expectSameBits("input", (v) => A.sum(v, { axis: 0 }), [x]);
    expect(direct).toContain("(WebAssembly)");
  });
});
