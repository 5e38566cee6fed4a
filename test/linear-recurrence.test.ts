/**
 * @file `linearRecurrence` (issue 17): h_t = a_t ⊙ h_{t−1} + b_t for all t at once. The reference
 * is `rnn` itself, running the same recurrence step by step as a cell (x_t carries a_t and b_t),
 * so lengths (frozen state, zero outputs), `reverse` and `timeMajor` must mean exactly what they
 * mean for `rnn`; gradients against that sequential run and against finite differences; jit bits;
 * vmap; errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { linearRecurrence, rnn, type Cell } from "@rewind/rnn";
import { allClose, checkGrads, laws } from "@rewind/testing";
import { arbRecurrence, type RecurrenceCase } from "./fuzz/rnnSpecs/parallel.js";

const expectClose = (got: unknown, want: unknown, tol = 1e-12): void => {
  const r = allClose(got, want, { rtol: tol, atol: tol });
  expect(r.pass, r.message).toBe(true);
};

/** The recurrence as a cell: x_t = [a_t, b_t] along the features, the carry is h. */
const affineCell = (features: number): Cell<null, Value> => ({
  name: "affine",
  init: () => null,
  initialCarry: (batch) => T.zeros([batch, features], "float64"),
  step: () => (h, x) => {
    const [at, bt] = A.split(x, 2, -1) as [Value, Value];
    const next = A.add(A.mul(at, h), bt);
    return [next, next];
  },
  outputSize: () => features,
});

/** The fields of a case both references read (the fuzz suite's random recurrences have them). */
type Case = Pick<RecurrenceCase, "a" | "b" | "h0" | "lengths" | "reverse" | "timeMajor">;

/** The sequential reference: `rnn` over the cell, with the same options. */
const byRnn = (c: Case) => {
  const features = c.b.shape[2]!;
  const xs = A.concat([A.broadcastTo(c.a, c.b.shape), c.b], -1);
  return rnn(affineCell(features), null, xs, {
    reverse: c.reverse,
    timeMajor: c.timeMajor,
    ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
    ...(c.h0 === undefined ? {} : { initialCarry: c.h0 }),
  });
};

const byParallel = (c: Case) =>
  linearRecurrence(c.a, c.b, c.h0, {
    reverse: c.reverse,
    timeMajor: c.timeMajor,
    ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
  });

describe("linearRecurrence equals rnn running the recurrence step by step (float64)", () => {
  it("outputs and final carry, with lengths, reverse, timeMajor and h0 in every combination", () => {
    fc.assert(
      fc.property(arbRecurrence(40, 1), (c) => {
        const [got, want] = [byParallel(c), byRnn(c)];
        expectClose(got.outputs, want.outputs, 1e-10);
        expectClose(got.finalCarry, want.finalCarry, 1e-10);
      }),
      { numRuns: 80 },
    );
  });

  it("a per-feature decay [features] broadcasts over batch and time (LRU's λ)", () => {
    const b = T.random.normal(T.random.key(1), [2, 9, 3], "float64");
    const lambda = T.fromDataOrThrow([0.5, -0.9, 0.99], [3], "float64");
    const full = T.broadcastTo(lambda, [2, 9, 3]);
    expectClose(
      linearRecurrence(lambda, b).outputs,
      byRnn({ a: full, b, h0: undefined, lengths: undefined, reverse: false, timeMajor: false }).outputs,
    );
  });
});

describe("linearRecurrence: gradients", () => {
  const a = T.random.uniform(T.random.key(2), [2, 12, 3], { min: 0.2, max: 0.95, dtype: "float64" });
  const b = T.random.normal(T.random.key(3), [2, 12, 3], "float64");
  const h0 = T.random.normal(T.random.key(4), [2, 3], "float64");
  const lengths = [12, 7];
  const w = T.random.normal(T.random.key(5), [2, 12, 3], "float64");

  it("equal the sequential rnn's gradients w.r.t. a, b and h0, with lengths and reversed", () => {
    for (const reverse of [false, true]) {
      const loss = (run: typeof byParallel) => (x: Value, y: Value, z: Value) => {
        const r = run({ a: x as T.Tensor, b: y as T.Tensor, h0: z as T.Tensor, lengths, reverse, timeMajor: false });
        return A.add(A.sum(A.mul(w, A.tanh(r.outputs))), A.sum(A.square(r.finalCarry)));
      };
      const [gp, gs] = [byParallel, byRnn].map((run) => A.grad(loss(run), { argnums: [0, 1, 2] })(a, b, h0));
      expectClose(gp, gs, 1e-11);
    }
  });

  it("orders 1 and 2 against finite differences", () => {
    checkGrads(
      (x: Value, y: Value, z: Value) => {
        const r = linearRecurrence(x, y, z, { lengths });
        return A.add(A.sum(A.mul(w, r.outputs)), A.sum(A.square(r.finalCarry)));
      },
      [a, b, h0],
      { order: 2 },
    );
  });
});

describe("linearRecurrence: transforms", () => {
  const a = T.random.uniform(T.random.key(6), [3, 20, 4], { min: 0.2, max: 0.95, dtype: "float32" });
  const b = T.random.normal(T.random.key(7), [3, 20, 4], "float32");

  it("jit gives the eager bits", () => {
    const f = (x: Value, y: Value) => linearRecurrence(x, y, undefined, { lengths: [20, 3, 0] });
    const [eager, jitted] = [f(a, b), A.jit(f)(a, b)];
    expect(Array.from(jitted.outputs.data)).toEqual(Array.from((eager.outputs as T.Tensor).data));
    expect(Array.from(jitted.finalCarry.data)).toEqual(Array.from((eager.finalCarry as T.Tensor).data));
  });

  it("jit gives the eager bits at SIMD sizes: values and gradients w.r.t. a, b and h0, with lengths", () => {
    // B 4, T 33, H 40: the scan levels' loops hold hundreds of elements, so jit runs them as
    // WebAssembly SIMD (the [3, 20, 4] case above compiles to JavaScript loops only).
    const k = T.random.split(T.random.key(17), 4) as unknown as T.Key[];
    const big = [
      T.random.uniform(k[0]!, [4, 33, 40], { min: 0.2, max: 0.95 }),
      T.random.normal(k[1]!, [4, 33, 40]),
      T.random.normal(k[2]!, [4, 40]),
    ] as const;
    const w = T.random.normal(k[3]!, [4, 33, 40]);
    for (const reverse of [false, true]) {
      const loss = (x: Value, y: Value, z: Value) => {
        const r = linearRecurrence(x, y, z, { lengths: [33, 0, 17, 1], reverse });
        return A.add(A.sum(A.mul(w, A.tanh(r.outputs))), A.sum(A.square(r.finalCarry)));
      };
      const f = A.valueAndGrad(loss, { argnums: [0, 1, 2] });
      const leaves = (v: unknown) => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data));
      expect(leaves(A.jit(f)(...big))).toEqual(leaves(f(...big)));
      expect(A.compileGraph(A.makeGraph(f)(...big).graph).simdKernels).toBeGreaterThan(0);
    }
  });

  it("the vmap law over an extra leading axis (an ensemble of recurrences)", () => {
    const stacked = (t: T.Tensor) => T.stack([t, T.neg(t)]);
    laws.vmap(
      {
        f: (x: Value, y: Value) => linearRecurrence(x, y).outputs,
        args: [stacked(a), stacked(b)],
        name: "linearRecurrence",
      },
      {},
    );
  });
});

describe("linearRecurrence: errors name the op, the argument and what to change", () => {
  const b = T.zeros([2, 5, 3], "float64");
  it("refuses bad shapes, dtypes, lengths and options", () => {
    expect(() => linearRecurrence(T.zeros([4], "float64"), b)).toThrow(
      /linearRecurrence.*\ba\b.*does not broadcast to b's shape \[2, 5, 3\]/s,
    );
    expect(() => linearRecurrence(b, T.zeros([5], "float64"))).toThrow(/linearRecurrence.*rank-1/s);
    expect(() => linearRecurrence(T.zeros([2, 5, 3], "float32"), b)).toThrow(/linearRecurrence.*float32.*float64/s);
    expect(() => linearRecurrence(b, b, T.zeros([2, 5], "float64"))).toThrow(/linearRecurrence.*h0.*float64\[2, 3\]/s);
    expect(() => linearRecurrence(b, b, undefined, { lengths: [6, 1] })).toThrow(/linearRecurrence.*lengths\[0\] = 6/s);
    expect(() => linearRecurrence(b, b, undefined, { revers: true } as never)).toThrow(
      /linearRecurrence.*revers.*reverse/s,
    );
    expect(() => linearRecurrence(b, b, undefined, { reverse: "yes" } as never)).toThrow(
      /linearRecurrence.*options\.reverse/s,
    );
  });
});
