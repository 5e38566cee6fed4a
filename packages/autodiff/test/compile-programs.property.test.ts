/**
 * @file Random whole programs through the compiler: chains that mix views (transposes, slices,
 * reshapes, flips, pads, concatenations, broadcasts), elementwise ops, reductions, products,
 * gathers, softmaxes, cumulative sums, scans, dtype round trips and argmax one-hots over values of
 * changing shapes (randomPrograms.ts), in float32 and float64, and their gradients. The compiled
 * runner (WebAssembly kernels, and the JavaScript backend) must give the interpreter's bits.
 *
 * The other property tests of the compiler each cover one area (elementwise programs, reductions,
 * indexing, the rewrites); the bugs that hide between areas, where a fusion meets a view that a
 * rewrite moved, need programs in which any op can follow any other.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, expectBits } from "./compileSupport.js";
import { arbInputs, arbSteps, hessianVectorProduct, lossOf, program, runs } from "./randomPrograms.js";

describe("compile: random programs give the interpreter's bits", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`forward, ${dtype} (NaN, ±∞, ±0 among the values)`, () => {
      fc.assert(
        fc.property(arbSteps, arbInputs(dtype, true), (steps, inputs) => {
          compileBothWays("program", program(steps), inputs);
        }),
        runs(300),
      );
    });

    it(`value and gradient, ${dtype}`, () => {
      fc.assert(
        fc.property(arbSteps, arbInputs(dtype, false), (steps, inputs) => {
          const vg = A.valueAndGrad(lossOf(program(steps)), { argnums: [0, 1, 2] });
          const run = (compile: boolean): unknown =>
            A.jit(vg as (...a: unknown[]) => unknown, { compile, warnRetraces: false })(...inputs);
          expectBits("program's value and gradient", run(true), run(false));
        }),
        runs(200),
      );
    });

    it(`forward mode and a Hessian-vector product, ${dtype}`, () => {
      fc.assert(
        fc.property(arbSteps, arbInputs(dtype, false), (steps, inputs) => {
          const f = program(steps);
          const loss = lossOf(f);
          // Tangents: the inputs themselves, reversed in sign, so every direction differs per element.
          const tangents = inputs.map((t) => T.neg(t));
          // The int32 positions (the last input) have no tangent: they stay a fixed argument.
          const jvpOf = (...xs: Value[]): unknown => {
            const [floats, ids] = [xs.slice(0, 3), xs[3]!];
            return A.jvp(
              (x: Value, w: Value, b: Value) => f(x, w, b, ids),
              floats,
              floats.map((x) => A.neg(x)),
            );
          };
          // Hessian-vector product along the tangents.
          const hvp = hessianVectorProduct(loss, tangents);
          for (const [label, fn] of [
            ["jvp", jvpOf],
            ["hvp", hvp],
          ] as const) {
            const run = (compile: boolean): unknown =>
              A.jit(fn as (...a: unknown[]) => unknown, { compile, warnRetraces: false })(...inputs);
            expectBits(`program's ${label}`, run(true), run(false));
          }
        }),
        runs(150),
      );
    });
  }
});
