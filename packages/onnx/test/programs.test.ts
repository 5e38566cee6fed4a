/**
 * @file Random whole programs (the autodiff package's generator, randomPrograms.ts: views,
 * products, reductions, softmaxes, pads, gathers and scatter-adds at int32 positions, cumulative
 * sums, scans, associative scans, argmax one-hots over changing shapes), exported and run in ONNX
 * Runtime: every output agrees with Rewind within the export tolerance, whatever feeds what. (A
 * float32 round trip inside a float64 program is left out: its rounding is float32's, which the
 * float64 tolerance does not allow.)
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import { arbInputs, arbSteps, program, runs } from "../../autodiff/test/randomPrograms.js";
import { checkExport } from "./helpers.js";

const withoutRoundTrips = arbSteps.map((steps) =>
  steps.map((s) => (s.kind === "astype" ? { ...s, kind: "unary" as const } : s)),
);

describe("ONNX export of random programs", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: ONNX Runtime computes what Rewind does`, async () => {
      await fc.assert(
        fc.asyncProperty(withoutRoundTrips, arbInputs(dtype, false), async (steps, inputs) => {
          await checkExport(program(steps), inputs);
        }),
        runs(40),
      );
    });
  }
});
