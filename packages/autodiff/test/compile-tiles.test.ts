/**
 * @file The compiler's blocked loops: an elementwise loop whose read walks the inner axis with a
 * far stride (a transpose) runs its last two axes in 32 × 32 blocks, for the cache; the values
 * are the interpreter's bit for bit, ragged edges and negative strides included, and loops that
 * would not gain stay plain.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectInvariant, floatDTypes, tensorOf } from "./compileSupport.js";

describe("compile: transposing loops in blocks", () => {
  it("transposing reads over big trailing axes run in 32 × 32 blocks, ragged edges included, with the interpreter's bits", () => {
    // The blocks change only the order elements are visited in; each value is computed as before.
    const shapes = [
      [70, 97],
      [3, 64, 65],
      [2, 66, 130],
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...shapes), fc.constantFrom(...floatDTypes), (s, dtype) =>
        fc.assert(
          fc.property(tensorOf(s, dtype), tensorOf([s.at(-1)!, 1], dtype), (x, col) => {
            const swap = [...s.keys()].map((i, _, k) => (i < k.length - 2 ? i : 2 * k.length - 3 - i));
            // A row-broadcast operand (read once per row of the block) beside the transposed read.
            const f = (v: Value, c: Value) => A.add(A.mul(A.transpose(v, swap), 2), A.exp(c));
            const g = (v: Value) => A.neg(A.transpose(A.flip(v, -2), swap)); // a far negative stride
            expectInvariant("transpose of the last two axes, plus a row broadcast", f, [x, col]);
            expectInvariant("transpose of a flipped view", g, [x]);
            const blocked = (h: (...v: Value[]) => Value, args: readonly T.Tensor[]) =>
              A.compileGraph(A.makeGraph(h)(...args).graph).source;
            expect(blocked(f, [x, col])).toMatch(/t\d+ \+= 32/);
            expect(blocked(g, [x])).toMatch(/t\d+ \+= 32/);
          }),
          { numRuns: 2 },
        ),
      ),
      { numRuns: 6 },
    );
  });

  it("plain contiguous loops and small transposes are not blocked", () => {
    const source = (h: (v: Value) => Value, x: T.Tensor) => A.compileGraph(A.makeGraph(h)(x).graph).source;
    const big = T.zeros([70, 97], "float32");
    expect(source((v) => A.exp(A.mul(v, v)), big)).not.toMatch(/t\d+ \+= 32/);
    expect(source((v) => A.neg(A.transpose(v)), T.zeros([40, 8], "float64"))).not.toMatch(/t\d+ \+= 32/);
  });
});
