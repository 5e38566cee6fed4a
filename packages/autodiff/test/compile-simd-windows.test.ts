/**
 * @file The compiler's WebAssembly SIMD loops with windowed reads along outer axes (a pad, a
 * concatenation or the split VJP's unslices along the time axis of `[batch, time, features]`, as
 * `linearScan`'s VJP and `linearRecurrence` make): those loops run in SIMD, axis segment by axis
 * segment, and give the interpreter's bits and the JavaScript loop's bits. Each test checks that
 * SIMD was taken (`simdKernels`, and no windowed read left in a JavaScript loop); before outer-axis
 * windows were planned, these loops stayed in JavaScript.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { awkward, compileBothWays, tensorOf, type GraphFn } from "./compileSupport.js";

/** Compiles `f` both ways (`compileBothWays`): SIMD kernels there, no windowed read left in JavaScript. */
const expectSame = (label: string, f: GraphFn, args: readonly T.Tensor[]): void => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(simd.simdKernels, `${label}: SIMD kernels`).toBeGreaterThanOrEqual(1);
  // A windowed read left in a JavaScript loop reads `cond ? r<k>[…] : fill`.
  expect(simd.source, `${label}: a windowed read in JavaScript`).not.toMatch(/\? r\d+\[/);
  expect(js.simdKernels).toBe(0);
};

const wide = fc.oneof(awkward, fc.double({ min: -50, max: 50, noNaN: true }));

describe.runIf(T.getKernelBackend().large === "wasm")("compile: SIMD loops with windows along outer axes", () => {
  it("a pad along the first or the middle axis, with its fill, ragged innermost ends included", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 33, max: 39 }),
        (time, lo, hi, features) => {
          fc.assert(
            fc.property(tensorOf([3, time, features], "float32", wide), (x) => {
              for (const axis of [0, 1]) {
                const widths: Array<[number, number]> = [
                  [0, 0],
                  [0, 0],
                  [0, 0],
                ];
                widths[axis] = [lo, hi];
                const f = (v: Value): Value => A.tanh(A.mul(A.pad(v, widths, 0.5), 2));
                expectSame(`pad axis ${axis} ${lo},${hi}`, f, [x]);
              }
            }),
            { numRuns: 2 },
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it("a concatenation along time and its VJP (unslices), and linearScan's VJP (shifted pads)", () => {
    fc.assert(
      fc.property(tensorOf([2, 9, 12], "float32", wide), tensorOf([2, 9, 12], "float32"), (x, w) => {
        // w is an argument, not a closure: a traced closure's tensor becomes a graph input too.
        const lifted = (v: Value, u: Value): Value => {
          const [first, rest] = A.split(v, [1], 1) as [Value, Value];
          return A.mul(A.concat([A.add(A.mul(first, 3), 1), rest], 1), u);
        };
        expectSame("concat along time", lifted, [x, w]);
        expectSame(
          "its gradient",
          A.grad((v: Value, u: Value) => A.sum(lifted(A.sigmoid(v), u))),
          [x, w],
        );
        const scanLoss = (v: Value, u: Value): Value => {
          const a = A.sigmoid(v);
          return A.sum(A.mul(A.linearScan(A.sub(1, a), A.mul(a, v), { axis: 1 }), u));
        };
        expectSame("linearScan's gradient", A.grad(scanLoss), [x, w]);
      }),
      { numRuns: 6 },
    );
  });
});
