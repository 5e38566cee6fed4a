/**
 * @file The vmap law for every built-in cell: a cell run on one sequence (a batch of one),
 * vmapped over a batch, equals `rnn` over that batch — outputs and final carries, float32 and
 * float64, eager and jitted — and per-example gradients (`vmap(grad)`) equal the loop of
 * single-sequence gradients to 1e-12 in float64.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { rnn, type Cell } from "@rewind/rnn";
import { BUILTIN_CELLS } from "./builtinCells.js";

const [batch, steps, inSize, hidden] = [3, 5, 4, 3];
const cells = BUILTIN_CELLS as ReadonlyArray<readonly [string, Cell<unknown, unknown>]>;

const first = (v: Value): Value => A.reshape(v, v.shape.slice(1));
const row = (v: Value, i: number): Value => first(A.take(v, [i], 0));

/** One sequence [T, F] through `rnn` as a batch of one: its outputs and final carry, unbatched. */
const oneSequence = (cell: Cell<unknown, unknown>, params: unknown) => (x: Value) => {
  const r = rnn(cell, params, A.expandDims(x, 0));
  return [first(r.outputs), A.treeMap(first, r.finalCarry)] as const;
};

const expectBits = (a: Value, e: Value, what: string): void => {
  expect(a.shape, what).toEqual(e.shape);
  expect(Array.from((a as T.Tensor).data), what).toEqual(Array.from((e as T.Tensor).data));
};

describe("vmap of a cell over the batch equals rnn over the batch", () => {
  cells.forEach(([name, cell], c) => {
    for (const dtype of ["float64", "float32"] as const) {
      for (const mode of ["eager", "jit"] as const) {
        it(`${name}, ${dtype}, ${mode}`, () => {
          const params = cell.init(T.random.key(10 + c), { inputSize: inSize, hiddenSize: hidden }, { dtype });
          const xs = T.random.normal(T.random.key(2), [batch, steps, inSize], dtype);
          const want = rnn(cell, params, xs);
          const vf = A.vmap(oneSequence(cell, params));
          const [outs, carry] = (mode === "jit" ? A.jit(vf) : vf)(xs);
          expectBits(outs, want.outputs, "outputs");
          const got = A.treeLeaves(carry);
          A.treeLeaves(want.finalCarry).forEach((leaf, i) => expectBits(got[i]!, leaf, `carry leaf ${i}`));
        });
      }
    }
  });
});

describe("per-example gradients of every cell equal the loop of single-sequence gradients", () => {
  cells.forEach(([name, cell], c) => {
    it(`${name}, float64, eager and jit`, () => {
      const params = cell.init(T.random.key(20 + c), { inputSize: inSize, hiddenSize: hidden }, { dtype: "float64" });
      const xs = T.random.normal(T.random.key(3), [batch, steps, inSize], "float64");
      const loss = (p: unknown, x: Value): Value => A.sum(A.square(oneSequence(cell, p)(x)[0]));
      const perEx = A.vmap(A.grad(loss), { inAxes: [null, 0] });
      for (const run of [perEx, A.jit(perEx)]) {
        const got = A.treeLeaves(run(params, xs));
        for (let i = 0; i < batch; i++) {
          const want = A.treeLeaves(A.grad(loss)(params, row(xs, i)));
          want.forEach((w, j) => {
            const g = row(got[j]!, i) as T.Tensor;
            expect(g.shape).toEqual(w.shape);
            (w as T.Tensor).data.forEach((v, k) => expect(Math.abs(g.data[k]! - v)).toBeLessThanOrEqual(1e-12));
          });
        }
      }
    });
  });
});
