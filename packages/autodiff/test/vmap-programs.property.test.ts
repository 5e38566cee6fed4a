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
import type { Value } from "../src/index.js";
import { arbSteps, lossOf, program, runs } from "./randomPrograms.js";
import { checkVmapLaw, expectSameBits, floats, ints, Rng, type FloatDType, type LawSpec } from "./vmapLaw.js";

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

  it("nested: two batch axes, x batched on both, b on the outer, the positions on the inner, w shared", () => {
    fc.assert(
      fc.property(arbSteps, arbDims, fc.nat(), fc.boolean(), (steps, [r, c, k, m], seed, jitted) => {
        const rng = new Rng(seed);
        const f = program(steps);
        const [outer, inner] = [2, 3];
        const xs = Array.from({ length: outer }, () =>
          Array.from({ length: inner }, () => floats(rng, [r, c], "float64")),
        );
        const w = floats(rng, [c, k], "float64");
        const bs = Array.from({ length: outer }, () => floats(rng, [c], "float64"));
        const ids = Array.from({ length: inner }, () => ints(rng, [m], -7, 7));
        const perInner = A.vmap((x: Value, ww: Value, b: Value, i: Value) => f(x, ww, b, i), {
          inAxes: [0, null, null, 0],
        });
        const both = A.vmap(perInner, { inAxes: [0, null, 0, null] });
        const got = A.treeLeaves(
          (jitted ? A.jit(both) : both)(
            A.stack(
              xs.map((row) => A.stack(row, 0)),
              0,
            ),
            w,
            A.stack(bs, 0),
            A.stack(ids, 0),
          ),
        );
        const loop = xs.map((row, o) => row.map((x, q) => A.treeLeaves(f(x, w, bs[o]!, ids[q]!))));
        got.forEach((leaf, j) =>
          expectSameBits(
            leaf,
            A.stack(
              loop.map((row) =>
                A.stack(
                  row.map((outs) => outs[j]!),
                  0,
                ),
              ),
              0,
            ),
            `output ${j}`,
          ),
        );
      }),
      runs(40),
    );
  });
});
