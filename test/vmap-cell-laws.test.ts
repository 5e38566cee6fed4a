/**
 * @file The vmap law of @rewind/testing on every built-in cell, in float32 and float64: `laws.vmap`
 * on a one-sequence `rnn` with the parameters shared (values, per-example gradients w.r.t. the
 * inputs, summed ones w.r.t. the parameters, and jit bit for bit). `cellLaws`' own vmap law (in
 * every configuration; float64 cases) runs with the other cell laws in rnn-laws.test.ts.
 */
import { describe, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { rnn, type AnyCell } from "@rewind/rnn";
import { laws } from "@rewind/testing";
import { BUILTIN_CELLS } from "./builtinCells.js";

const sizes = { inputSize: 2, hiddenSize: 3 };

/** One sequence `[T, F]` through `rnn` as a batch of one: its outputs and final carry, unbatched. */
const oneSequence = (cell: AnyCell) => (params: unknown, x: A.Value) => {
  const r = rnn(cell, params, A.expandDims(x, 0));
  return { outputs: A.squeeze(r.outputs, 0), finalCarry: A.treeMap((l) => A.squeeze(l, 0), r.finalCarry) };
};

describe("the vmap law on every built-in cell", () => {
  BUILTIN_CELLS.forEach(([name, cell], seed) => {
    for (const dtype of ["float64", "float32"] as const) {
      it(`${name}: laws.vmap of rnn on one sequence, ${dtype}`, () => {
        const params = cell.init(T.random.key(30 + seed), sizes, { dtype });
        const xs = T.random.normal(T.random.key(31 + seed), [3, 4, sizes.inputSize], dtype);
        laws.vmap({ f: oneSequence(cell), args: [params, xs], name: `${name} on one sequence` }, { inAxes: [null, 0] });
      });
    }
  });
});
