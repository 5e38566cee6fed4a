/**
 * @file Cells with a parallel form (issue 17): `rnn(cell, p, xs, { mode: "parallel" })` runs the
 * cell's `sequence` form and must equal the step-by-step scan (`mode: "sequential"`): outputs,
 * final carry and gradients w.r.t. the parameters, the inputs and the initial carry, with
 * lengths, reversed, in either layout; float64 to rounding, float32 close, jit bit for bit.
 * (The step equations themselves are checked against plain-JavaScript references in the rnn
 * fuzz suite.)
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { lstm, minGru, minLstm, rnn, type Cell, type MinimalCellParams, type RnnOptions } from "@rewind/rnn";
import { allClose } from "@rewind/testing";

const CELLS = [
  ["minGru", minGru],
  ["minLstm", minLstm],
] as const;

const expectClose = (got: unknown, want: unknown, tol: number): void => {
  const r = allClose(got, want, { rtol: tol, atol: tol });
  expect(r.pass, r.message).toBe(true);
};

interface Case {
  readonly params: MinimalCellParams;
  readonly xs: T.Tensor;
  readonly h0: T.Tensor | undefined;
  readonly opts: RnnOptions<Value>;
}

const arbCase = (cell: Cell<MinimalCellParams, Value>, dtype: "float32" | "float64"): fc.Arbitrary<Case> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      time: fc.integer({ min: 0, max: 24 }),
      seed: fc.nat({ max: 1e6 }),
      withH0: fc.boolean(),
      reverse: fc.boolean(),
      timeMajor: fc.boolean(),
      cuts: fc.option(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { nil: undefined }),
    })
    .map((r) => {
      const k = T.random.split(T.random.key(r.seed), 3) as [T.Key, T.Key, T.Key];
      const params = cell.init(k[0], { inputSize: 3, hiddenSize: 4 }, { dtype });
      const shape = r.timeMajor ? [r.time, r.batch, 3] : [r.batch, r.time, 3];
      const lengths = r.cuts?.slice(0, r.batch).map((c) => c % (r.time + 1));
      return {
        params,
        xs: T.random.normal(k[1], shape, dtype),
        h0: r.withH0 ? T.random.normal(k[2], [r.batch, 4], dtype) : undefined,
        opts: {
          reverse: r.reverse,
          timeMajor: r.timeMajor,
          ...(lengths === undefined ? {} : { lengths }),
        },
      };
    });

const run = (cell: Cell<MinimalCellParams, Value>, c: Case, mode: "parallel" | "sequential") =>
  rnn(cell, c.params, c.xs, { ...c.opts, mode, ...(c.h0 === undefined ? {} : { initialCarry: c.h0 }) });

describe("mode parallel equals mode sequential", () => {
  for (const [name, cell] of CELLS) {
    it(`${name}: outputs and final carry, float64 (lengths, reverse, layout, initial carry)`, () => {
      fc.assert(
        fc.property(arbCase(cell, "float64"), (c) => {
          const [par, seq] = [run(cell, c, "parallel"), run(cell, c, "sequential")];
          expectClose(par.outputs, seq.outputs, 1e-12);
          expectClose(par.finalCarry, seq.finalCarry, 1e-12);
        }),
        { numRuns: 40 },
      );
    });

    it(`${name}: gradients w.r.t. params, inputs and initial carry, float64`, () => {
      fc.assert(
        fc.property(arbCase(cell, "float64"), (c) => {
          const w = T.random.normal(T.random.key(9), c.xs.shape.slice(0, 2).concat([4]), "float64");
          const h0 = c.h0 ?? T.zeros([c.opts.timeMajor ? c.xs.shape[1]! : c.xs.shape[0]!, 4], "float64");
          const loss = (mode: "parallel" | "sequential") => (p: MinimalCellParams, x: Value, h: Value) => {
            const r = rnn(cell, p, x, { ...c.opts, mode, initialCarry: h });
            return A.add(A.sum(A.mul(w, A.tanh(r.outputs))), A.sum(A.square(r.finalCarry)));
          };
          const [gp, gs] = (["parallel", "sequential"] as const).map((m) =>
            A.grad(loss(m), { argnums: [0, 1, 2] })(c.params, c.xs, h0),
          );
          expectClose(gp, gs, 1e-11);
        }),
        { numRuns: 15 },
      );
    });

    it(`${name}: float32 close to the scan, and jit gives the eager bits`, () => {
      fc.assert(
        fc.property(arbCase(cell, "float32"), (c) => {
          const [par, seq] = [run(cell, c, "parallel"), run(cell, c, "sequential")];
          expectClose(par.outputs, seq.outputs, 2e-5);
          const jitted = A.jit((p: MinimalCellParams, x: Value) =>
            rnn(cell, p, x, { ...c.opts, mode: "parallel", ...(c.h0 === undefined ? {} : { initialCarry: c.h0 }) }),
          )(c.params, c.xs);
          expect(Array.from((jitted.outputs as T.Tensor).data)).toEqual(Array.from((par.outputs as T.Tensor).data));
        }),
        { numRuns: 10 },
      );
    });
  }
});

describe("mode parallel at SIMD sizes: jit gives the eager bits", () => {
  // B 8, H 32: the parallel form's loops over [B, T, H] hold thousands of elements, so jit runs
  // them as WebAssembly SIMD; the cases above (H 4) compile to JavaScript loops only.
  for (const [name, cell] of CELLS) {
    it(`${name}: outputs and gradients w.r.t. params, inputs and initial carry, with lengths and reversed`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.nat(1e6), (time, reverse, seed) => {
          const k = T.random.split(T.random.key(seed), 4) as [T.Key, T.Key, T.Key, T.Key];
          const params = cell.init(k[0], { inputSize: 12, hiddenSize: 32 }, { dtype: "float32" });
          const xs = T.random.normal(k[1], [8, time, 12]);
          const h0 = T.random.normal(k[2], [8, 32]);
          const w = T.random.normal(k[3], [8, time, 32]);
          const lengths = [time, 0, 1, time, Math.floor(time / 2), time, 3 % (time + 1), time - 1];
          const loss = (p: MinimalCellParams, x: Value, h: Value) => {
            const r = rnn(cell, p, x, { mode: "parallel", lengths, reverse, initialCarry: h });
            return A.add(A.sum(A.mul(w, A.tanh(r.outputs))), A.sum(A.square(r.finalCarry)));
          };
          const f = A.valueAndGrad(loss, { argnums: [0, 1, 2] });
          const leaves = (v: unknown) => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data));
          expect(leaves(A.jit(f)(params, xs, h0))).toEqual(leaves(f(params, xs, h0)));
          // The path under test is taken.
          expect(A.compileGraph(A.makeGraph(f)(params, xs, h0).graph).simdKernels).toBeGreaterThan(0);
        }),
        { numRuns: 8 },
      );
    });
  }
});

describe("mode parallel: refusals name rnn, the option and what to do", () => {
  const xs = T.zeros([2, 3, 3], "float32");
  const p = minGru.init(T.random.key(0), { inputSize: 3, hiddenSize: 4 });
  it("a cell without a sequence form, scan-only options, an unknown mode", () => {
    const lp = lstm.init(T.random.key(0), { inputSize: 3, hiddenSize: 4 });
    expect(() => rnn(lstm, lp, xs, { mode: "parallel" })).toThrow(
      /rnn.*lstm has only step.*options\.mode.*sequential/s,
    );
    expect(() => rnn(minGru, p, xs, { mode: "parallel", truncate: 2 })).toThrow(/rnn.*options\.truncate.*sequential/s);
    expect(() => rnn(minGru, p, xs, { mode: "parallel", key: T.random.key(1) })).toThrow(/rnn.*options\.key/s);
    expect(() => rnn(minGru, p, xs, { mode: "fast" as never })).toThrow(/rnn.*"fast".*options\.mode/s);
  });
  it("the sequence form checks its input like the step does", () => {
    expect(() => minGru.sequence!(p)(T.zeros([2, 4], "float32"), T.zeros([2, 3, 5], "float32"))).toThrow(
      /minGru\.sequence.*xs must be \[batch, time, 3\]/s,
    );
    expect(() => minGru.sequence!(p)(T.zeros([2, 4], "float64"), xs)).toThrow(/minGru\.sequence.*carry/s);
  });
});
