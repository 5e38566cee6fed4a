/**
 * @file The compiler's `cumulative` nodes: a cumulative op or linearScan runs its tensor kernel
 * writing into the runner's planned buffer (`cumInto`), not its impl into a fresh array (whose
 * page faults cost more than the kernel at [16, 1024, 128]). Values are the eager op's bit for bit,
 * at sizes that take the kernels' WebAssembly paths and the JavaScript ones, from strided inputs,
 * as a graph output and in the middle of a graph.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectBits, expectInvariant } from "./compileSupport.js";

type CumOp = (x: Value, o?: A.CumulativeOptions) => Value;
const ops: Readonly<Record<string, CumOp>> = {
  cumsum: A.cumsum,
  cumprod: A.cumprod,
  cummax: A.cummax,
  cummin: A.cummin,
  logcumsumexp: A.logcumsumexp,
};

const normal = (seed: number, shape: number[], dtype: T.DType): T.Tensor =>
  T.random.normal(T.random.key(seed), shape, dtype === "float64" ? "float64" : "float32");

/** The compiled source, which must run every cumulative op as a `cumInto` call and never its impl. */
const compiledSource = (f: (...v: Value[]) => unknown, args: readonly T.Tensor[], calls: number): void => {
  const run = A.compileGraph(A.makeGraph(f)(...args).graph);
  expect(run.source.match(/cumInto\(/g)?.length ?? 0).toBe(calls);
  expect(run.source).not.toMatch(/tensorAt\(/);
};

describe("compiled cumulative ops write into the runner's buffers", () => {
  // [4, 300, 8]: float32 planes take the SIMD kernels (9600 elements); [3, 5, 7]: the JS loops.
  for (const shape of [
    [4, 300, 8],
    [3, 5, 7],
  ])
    for (const dtype of ["float32", "float64"] as const)
      it(`every op on ${dtype}[${shape.join(", ")}], every axis, both directions, from a transposed input`, () => {
        const x = normal(1, shape, dtype);
        for (const [name, op] of Object.entries(ops))
          for (const axis of [0, 1, 2])
            for (const reverse of [false, true]) {
              // The transpose makes the input a strided view (copied first); the tanh reads the result.
              const f = (v: Value) => A.tanh(op(A.transpose(v, [1, 0, 2]), { axis, reverse }));
              const g = (v: Value) => op(v, { axis, reverse });
              const label = `${name} axis ${axis} reverse ${reverse}`;
              compiledSource(f, [x], 1);
              expectBits(label, expectInvariant(label, f, [x]), f(x));
              expectBits(`${label}, as the output`, expectInvariant(label, g, [x]), g(x));
            }
      });

  for (const dtype of ["float32", "float64"] as const)
    it(`linearScan and its gradient in both operands, ${dtype}, both directions`, () => {
      const a = T.random.uniform(T.random.key(2), [4, 300, 8], { dtype });
      const b = normal(3, [4, 300, 8], dtype);
      for (const reverse of [false, true]) {
        const value = (u: Value, v: Value) => A.linearScan(u, v, { axis: 1, reverse });
        const grads = A.grad((u: Value, v: Value) => A.sum(A.square(A.linearScan(u, v, { axis: 1, reverse }))), {
          argnums: [0, 1],
        });
        compiledSource(value, [a, b], 1);
        compiledSource(grads, [a, b], 2);
        expectBits(`value ${reverse}`, expectInvariant(`value ${reverse}`, value, [a, b]), value(a, b));
        expectBits(`grads ${reverse}`, expectInvariant(`grads ${reverse}`, grads, [a, b]), grads(a, b));
      }
    });

  it("int32 and bool cumsum (bool sums as int32)", () => {
    const i = T.fromDataOrThrow([2 ** 30, 2 ** 30, -3, 7, 0, 5], [2, 3], "int32");
    const b = T.fromDataOrThrow([1, 0, 1, 1, 1, 0], [2, 3], "bool");
    for (const x of [i, b]) {
      const f = (v: Value) => A.mul(A.cumsum(v, { axis: 1 }), 3);
      compiledSource(f, [x], 1);
      expectBits(`${x.dtype}`, expectInvariant(`${x.dtype}`, f, [x]), f(x));
    }
  });
});
