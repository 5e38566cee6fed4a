/**
 * @file Extremes of rows four at a time (max, min, argmax, argmin over the last axis of 8 rows and
 * more): each row keeps its own chain, and a row that met a NaN after its first element is done
 * again by the one-row loop. The kernels must give the interpreter's bits whatever the rows hold —
 * NaN first, last, in one row of four or in all, ties of +0 and −0, ±∞ — for row counts that leave
 * 0–3 rows to the one-row loop, in float32, float64 and int32. Each test checks the path taken.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, type GraphFn } from "./compileSupport.js";

type Extreme = "max" | "min" | "argmax" | "argmin";
const EXTREMES: readonly Extreme[] = ["max", "min", "argmax", "argmin"];

const extreme = (v: Value, op: Extreme, axis: number): Value =>
  op === "argmax" || op === "argmin" ? A[op](v, { axis }) : A[op](v, { axis: [axis] });

/** Compiles `f` both ways and returns both sources (SIMD kernels, JavaScript kernels). */
const sources = (label: string, f: GraphFn, args: readonly T.Tensor[]): string[] => {
  const { simd, js } = compileBothWays(label, f, args);
  return [simd.source, js.source];
};

/** Values where ties and NaN decide the result: few distinct values, NaN and signed zeros among them. */
const tricky = fc.constantFrom(NaN, -0, 0, 1, -1, 2, Infinity, -Infinity, 0.5);

/** Rows of `n` values, NaN-free except at the positions `nans` picks (row, column). */
const rowsWithNaNs = (rows: number, n: number, dtype: T.DType): fc.Arbitrary<T.Tensor> =>
  fc
    .tuple(
      fc.array(fc.constantFrom(-0, 0, 1, -1, 3, -3, Infinity, -Infinity), { minLength: rows * n, maxLength: rows * n }),
      fc.array(fc.tuple(fc.nat(rows - 1), fc.nat(n - 1)), { maxLength: 4 }),
    )
    .map(([values, nans]) => {
      const data = [...values];
      for (const [r, c] of nans) data[r * n + c] = NaN;
      return T.fromDataOrThrow(data, [rows, n], dtype);
    });

describe("compile: extremes of rows four at a time", () => {
  it("give the interpreter's bits with NaN anywhere, signed-zero ties and infinities (float32, float64)", () => {
    for (const dtype of ["float32", "float64"] as const)
      for (const rows of [8, 9, 10, 11, 16])
        for (const n of [2, 5, 89])
          fc.assert(
            fc.property(rowsWithNaNs(rows, n, dtype), fc.constantFrom(...EXTREMES), (x, op) => {
              const f = (v: Value): Value[] => [extreme(v, op, 1), extreme(A.neg(v), op, 1)];
              for (const source of sources(`${dtype} ${op} of [${rows}, ${n}]`, f, [x]))
                expect(source).toMatch(/\/\/ (reduceMax|reduceMin|argmax|argmin) \w+ by fours/);
            }),
            { numRuns: 8 },
          );
  });

  it("give the interpreter's bits on rows drawn from a few tricky values, and on int32 rows", () => {
    fc.assert(
      fc.property(
        fc.array(tricky, { minLength: 12 * 7, maxLength: 12 * 7 }),
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 12 * 7, maxLength: 12 * 7 }),
        fc.constantFrom(...EXTREMES),
        (floats, ints, op) => {
          const x = T.fromDataOrThrow(floats, [12, 7], "float32");
          const k = T.fromDataOrThrow(ints, [12, 7], "int32");
          sources(`${op} of tricky rows`, (v: Value, w: Value) => [extreme(v, op, 1), extreme(w, op, 1)], [x, k]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("fewer than 8 outputs keep the one-row loop; extremes over a leading axis run four at a time too", () => {
    const x = T.random.uniform(T.random.key(1), [7, 9], { min: -1, max: 1 });
    for (const source of sources("7 rows", (v: Value) => A.max(v, { axis: [1] }), [x]))
      expect(source).not.toContain("by fours");
    // Over axis 0 of [5, 9]: 9 outputs, each reading a column (elements 9 apart).
    fc.assert(
      fc.property(rowsWithNaNs(5, 9, "float32"), fc.constantFrom(...EXTREMES), (y, op) => {
        for (const source of sources(`${op} over axis 0`, (v: Value) => extreme(v, op, 0), [y]))
          expect(source).toContain("by fours");
      }),
      { numRuns: 20 },
    );
  });
});
