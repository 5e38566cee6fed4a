/**
 * @file The compiler's SIMD loops with a float32 polynomial (e^x, tanh, the logistic) compute two
 * vectors of the innermost axis per iteration (`twoAtATime` in simdLoop.ts): the second vector's
 * reads, members and stores sit 4 elements on from the first's. Every read kind in that layout —
 * float32 and int32 vectors, bool bytes as masks, splats, scalars, windowed reads with their
 * fill — and every innermost length around the pairs (whole pairs, a pair and one vector, ragged
 * ends of 1 to 3 lanes) give the interpreter's and the JavaScript loop's bits.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { awkward, compileBothWays, tensorOf, type GraphFn } from "./compileSupport.js";

const wide = fc.oneof(awkward, fc.double({ min: -60, max: 60, noNaN: true }));

/** Compiles `f` both ways (`compileBothWays`): one SIMD kernel there, none in the JS runner. */
const expectOneKernel = (label: string, f: GraphFn, args: readonly T.Tensor[]): void => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(simd.simdKernels, `${label}: SIMD kernels`).toBe(1);
  expect(js.simdKernels).toBe(0);
};

describe.runIf(T.getKernelBackend().large === "wasm")("compile: SIMD loops two vectors at a time", () => {
  it("float32, int32 and bool reads, splats and two stores, for innermost lengths 1 to 26", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 26 }), fc.integer({ min: 0, max: 2 }), fc.integer(), (n, extra, seed) => {
        // Loops of fewer than 128 elements stay in JavaScript.
        const rows = Math.ceil(128 / n) + extra;
        fc.assert(
          fc.property(
            tensorOf([rows, n], "float32", wide),
            tensorOf([rows, n], "float32", wide),
            tensorOf([rows, n], "bool"),
            tensorOf([rows, n], "int32"),
            tensorOf([rows, 1], "int32"),
            tensorOf([rows, 1], "float32", wide),
            (x, y, mask, ids, rowIds, column) => {
              const f = (u: Value, v: Value, m: Value, k: Value, kRow: Value, c: Value): Value[] => {
                const gate = A.sigmoid(A.add(u, c));
                const picked = A.where(m, A.tanh(v), A.mul(gate, 0.5));
                const hot = A.astype(A.equal(k, kRow), "float32");
                return [A.add(picked, hot), A.mul(A.exp(A.neg(A.abs(u))), gate)];
              };
              expectOneKernel(`n ${n}, rows ${rows}`, f, [x, y, mask, ids, rowIds, column]);
            },
          ),
          { numRuns: 2, seed },
        );
      }),
      { numRuns: 40 },
    );
  });

  it("windowed reads (a pad's fill and the shifted values) across the pairs' segments", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        (n, lo, hi) =>
          fc.assert(
            fc.property(tensorOf([64, n], "float32", wide), tensorOf([64, n + lo + hi], "float32", wide), (x, y) => {
              const f = (u: Value, v: Value): Value => {
                const padded = A.pad(
                  u,
                  [
                    [0, 0],
                    [lo, hi],
                  ],
                  -0.75,
                );
                return A.tanh(A.add(padded, A.sigmoid(v)));
              };
              expectOneKernel(`n ${n}, pad ${lo},${hi}`, f, [x, y]);
            }),
            { numRuns: 2 },
          ),
      ),
      { numRuns: 30 },
    );
  });
});
