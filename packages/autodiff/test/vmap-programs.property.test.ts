/**
 * @file The vmap law on random whole programs (randomPrograms.ts): `vmap(f)` of stacked examples
 * equals stacking `f` over the examples bit for bit, eager and under `jit`, batched at the first or
 * last axis or with the weight shared, for the program and for its value and gradient. The
 * per-primitive table (vmap-law.test.ts) checks each batching rule alone; here rules meet rules:
 * a batched scan over a gathered, padded, transposed value, a product of two batched operands.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as A from "../src/index.js";
import { arbSteps, lossOf, program, runs } from "./randomPrograms.js";
import { checkVmapLaw, floats, ints, type FloatDType, type LawSpec } from "./vmapLaw.js";

/** Dims of one example's x [r, c], w [c, k], b [c] and positions [m]. */
const arbDims = fc.tuple(
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 4 }),
);

/**
 * The law's spec for a function of one example's (x, w, b, positions): the positions differ per
 * example (gathers and scatters at batched indices), and w and they are each also tried shared.
 */
const spec = ([r, c, k, m]: readonly number[], f: LawSpec["f"]): LawSpec => ({
  args: (rng, dtype) => [
    floats(rng, [r!, c!], dtype),
    floats(rng, [c!, k!], dtype),
    floats(rng, [c!], dtype),
    ints(rng, [m!], -7, 7),
  ],
  f,
  shared: [1, 3],
});

describe("vmap: random programs equal the loop over their examples", () => {
  for (const dtype of ["float32", "float64"] as const satisfies readonly FloatDType[]) {
    for (const mode of ["eager", "jit"] as const) {
      it(`forward, ${dtype}, ${mode}`, () => {
        fc.assert(
          fc.property(arbSteps, arbDims, fc.nat(), (steps, dims, seed) => {
            checkVmapLaw(spec(dims, program(steps)), dtype, mode, seed);
          }),
          runs(mode === "eager" ? 60 : 40),
        );
      });

      it(`value and gradient, ${dtype}, ${mode}`, () => {
        fc.assert(
          fc.property(arbSteps, arbDims, fc.nat(), (steps, dims, seed) => {
            const vg = A.valueAndGrad(lossOf(program(steps)), { argnums: [0, 1, 2] });
            checkVmapLaw(spec(dims, vg), dtype, mode, seed);
          }),
          runs(mode === "eager" ? 40 : 30),
        );
      });
    }
  }
});
