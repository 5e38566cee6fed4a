/**
 * @file The compiler's indexing, concatenation and cumulative kernels on random inputs: take,
 * addAt, gather and addAlongAxis along any axis (repeated and negative ids included), concat and
 * split along any axis, and the cumulative ops forwards and in reverse, over float32, float64 and
 * int32 values read plainly or through a view, with elementwise work around them — compiled with
 * SIMD and with the JavaScript kernels, both give the interpreter's bits. Ids out of range give the
 * interpreter's error from the compiled runner too.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, expectInvariant, tensorOf } from "./compileSupport.js";

type Op = "take" | "addAt" | "gather" | "addAlongAxis" | "concat" | "cumsum" | "cumprod" | "cummax" | "cummin";

const ids = (shape: readonly number[], bound: number) =>
  fc
    .array(fc.integer({ min: -bound, max: bound - 1 }), { minLength: T.sizeOf(shape), maxLength: T.sizeOf(shape) })
    .map((d) => T.fromDataOrThrow(d, shape, "int32"));

const program =
  (op: Op, axis: number, transposed: boolean, work: boolean) =>
  (x: Value, k: Value, y: Value): Value[] => {
    const v = transposed ? A.transpose(A.transpose(x)) : x;
    const u = work && v.dtype !== "int32" ? A.tanh(v) : v;
    const r = ((): Value => {
      switch (op) {
        case "take":
          return A.take(u, A.reshape(k, [-1]), axis);
        case "addAt":
          return A.addAt(u, A.reshape(k, [-1]), y, axis);
        case "gather":
          return A.gather(u, k, axis);
        case "addAlongAxis":
          return A.addAlongAxis(u, k, A.astype(k, u.dtype), axis);
        case "concat":
          return A.concat([u, A.mul(u, 2), u], axis);
        case "cumsum":
        case "cumprod":
        case "cummax":
        case "cummin":
          return A[op](u, { axis, reverse: axis === 0 });
      }
    })();
    return [work ? A.add(r, A.astype(r, r.dtype)) : r];
  };

describe("compile: indexing, concatenation and cumulative kernels on random inputs", () => {
  it("give the interpreter's bits (or its error) through SIMD and JavaScript kernels", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("float32", "float64", "int32" as const),
        fc.constantFrom<Op>(
          "take",
          "addAt",
          "gather",
          "addAlongAxis",
          "concat",
          "cumsum",
          "cumprod",
          "cummax",
          "cummin",
        ),
        fc.constantFrom(0, 1),
        fc.boolean(),
        fc.boolean(),
        fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 })),
        fc.integer({ min: 1, max: 30 }),
        (dtype, op, axis, transposed, work, shape, count) => {
          const size = shape[axis];
          // gather/addAlongAxis: ids of x's rank with `count` along the axis; take/addAt: `count` ids.
          const idShape =
            op === "gather" || op === "addAlongAxis" ? shape.map((d, a) => (a === axis ? count : d)) : [count];
          const valueShape = shape.map((d, a) => (a === axis ? count : d));
          fc.assert(
            fc.property(
              tensorOf(shape, dtype),
              // Mostly in range (negative ids count from the end), sometimes one past it.
              fc.oneof({ weight: 5, arbitrary: ids(idShape, size) }, { weight: 1, arbitrary: ids(idShape, size + 1) }),
              tensorOf(valueShape, dtype),
              (x, k, y) => {
                const label = `${dtype} ${op} axis ${axis} ${transposed ? "transposed " : ""}${work ? "with work " : ""}[${shape.join(", ")}] ids [${idShape.join(", ")}]`;
                const f = program(op, axis, transposed, work);
                const inRange = Array.from(k.data).every((i) => i >= -size && i < size);
                const usesIds = op === "take" || op === "addAt" || op === "gather" || op === "addAlongAxis";
                // Out of range: the same error compiled as interpreted.
                if (inRange || !usesIds) compileBothWays(label, f, [x, k, y]);
                else expectInvariant(label, f, [x, k, y]);
              },
            ),
            { numRuns: 2 },
          );
        },
      ),
      { numRuns: 250 },
    );
  });
});
