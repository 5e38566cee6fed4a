/**
 * @file The compiler's reductions on random inputs and views: sum, prod, max, min, argmax, argmin
 * and mean over any axes of float32, float64 and int32 values — read plainly, transposed, sliced
 * or broadcast, awkward values included (NaN, ±0, ±∞, huge, tiny) — and the elementwise work
 * around them, compiled with SIMD and with the JavaScript kernels, give the interpreter's bits.
 * The kernels take several paths by shape (rows summed four at a time, sums over leading axes in
 * WebAssembly, the first-of-equals rule for extremes), and the paths must agree wherever they meet.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, tensorOf } from "./compileSupport.js";

type Op = "sum" | "prod" | "max" | "min" | "argmax" | "argmin" | "mean";
type View = "plain" | "transposed" | "sliced" | "broadcast";

/** `x` seen through `view` (every view keeps rank 3). */
const viewed = (x: Value, view: View): Value => {
  switch (view) {
    case "plain":
      return x;
    case "transposed":
      return A.transpose(x, [2, 0, 1]);
    case "sliced":
      return A.slice(x, [null, null, { start: 1 }]);
    case "broadcast":
      return A.broadcastTo(A.slice(x, [null, { start: 0, stop: 1 }, null]), x.shape);
  }
};

const reduce = (v: Value, op: Op, axes: readonly number[]): Value => {
  if (op === "argmax" || op === "argmin") return A[op](v, { axis: axes[0]! });
  if (op === "mean" && v.dtype === "int32") return A.sum(v, { axis: [...axes] });
  return A[op](v, { axis: [...axes] });
};

describe("compile: reductions on random inputs and views", () => {
  it("give the interpreter's bits through SIMD and JavaScript kernels", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("float32", "float64", "int32" as const),
        fc.constantFrom<Op>("sum", "prod", "max", "min", "argmax", "argmin", "mean"),
        fc.constantFrom<View>("plain", "transposed", "sliced", "broadcast"),
        fc.subarray([0, 1, 2], { minLength: 1 }),
        fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2, max: 37 })),
        fc.boolean(),
        (dtype, op, view, axes, shape, keepWork) =>
          fc.assert(
            fc.property(tensorOf(shape, dtype), (x) => {
              const f = (u: Value): Value[] => {
                const v = viewed(u, view);
                const r = reduce(v, op, axes);
                // With elementwise work before and after, the reduction reads a fused loop's output
                // and writes a buffer of the runner's (some kernels run only there).
                const worked = keepWork && dtype !== "int32" ? A.mul(reduce(A.tanh(v), op, axes), 2) : r;
                return [r, worked];
              };
              compileBothWays(`${dtype} ${op} ${view} axes ${axes.join(",")} of [${shape.join(", ")}]`, f, [x]);
            }),
            { numRuns: 2 },
          ),
      ),
      { numRuns: 300 },
    );
  });

  it("every op, view and set of axes over float32 [3, 8, 12] read from the runner's memory", () => {
    const ops: readonly Op[] = ["sum", "prod", "max", "min", "argmax", "argmin", "mean"];
    const views: readonly View[] = ["plain", "transposed", "sliced", "broadcast"];
    const axesSets = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
    for (const op of ops)
      for (const view of views)
        for (const axes of axesSets)
          fc.assert(
            fc.property(tensorOf([3, 8, 12], "float32"), (x) => {
              const f = (u: Value): Value[] => {
                // Neither the reduction's input nor its output is the runner's input or output.
                const v = A.tanh(viewed(u, view));
                return [A.mul(reduce(v, op, axes), 2)];
              };
              compileBothWays(`${op} ${view} axes ${axes.join(",")}`, f, [x]);
            }),
            { numRuns: 1 },
          );
  });
});
