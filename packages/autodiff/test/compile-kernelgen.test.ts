/**
 * @file Two generated kernels' faster forms, bit for bit with the interpreter and the eager ops:
 * concatenation copying long chunks with `set`, and the sum over leading axes (a bias gradient)
 * adding four rows per pass (left to right, as one row per pass does), with a ragged last group.
 * Each test checks that the form it means to test was generated.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { awkward, expectBits, expectInvariant, tensorOf } from "./compileSupport.js";

const sourceOf = (f: (...v: Value[]) => unknown, args: readonly T.Tensor[]): string =>
  A.compileGraph(A.makeGraph(f)(...args).graph).source;

describe("generated kernels: concat and sums over rows", () => {
  for (const dtype of ["float32", "float64"] as const)
    it(`concat along the middle axis: chunks of 350 copied with set, chunks of 5 element by element (${dtype})`, () => {
      fc.assert(
        fc.property(tensorOf([3, 70, 5], dtype, awkward), tensorOf([3, 1, 5], dtype, awkward), (x, y) => {
          const f = (u: Value, v: Value) => A.mul(A.concat([v, u, v], 1), 2);
          const source = sourceOf(f, [x, y]);
          expect(source).toMatch(/o\.set\(x1\.subarray\(/);
          expect(source).toMatch(/o\[p\+\+\] = x0\[b \+ k\]/);
          expectBits(`concat ${dtype}`, expectInvariant(`concat ${dtype}`, f, [x, y]), f(x, y));
        }),
        { numRuns: 10 },
      );
    });

  for (const [shape, label] of [
    [[7, 5, 33], "35 rows: eight groups of four and three left"],
    [[4, 8, 16], "32 rows: groups of four only"],
    [[3, 1, 40], "3 rows: no group of four"],
  ] as const)
    for (const dtype of ["float32", "float64"] as const)
      it(`the sum over the leading axes of [${shape.join(", ")}] (${label}), ${dtype}`, () => {
        fc.assert(
          fc.property(tensorOf([...shape], dtype, awkward), (x) => {
            const f = (v: Value) => A.sum(v, { axis: [0, 1] });
            expect(sourceOf(f, [x])).toMatch(/by rows[\s\S]*j \+= 4/);
            expectBits(`sum ${dtype}`, expectInvariant(`sum ${dtype}`, f, [x]), f(x));
          }),
          { numRuns: 10 },
        );
      });
});
