/**
 * @file Mode "parallel" through the compositions (issue 17): `stack`, `residual`, `mapInput`,
 * `mapOutput`, `dropout` and `withSizes` have a `sequence` form exactly when every cell inside
 * does, and it passes the parallel law (parallel = sequential: outputs, final carry and gradients,
 * float64 and float32, with lengths, both directions and layouts; jit bit for bit);
 * `bidirectional(…).apply` and the layer shapes (manyToOne, manyToMany with a readout,
 * repeatInput, feedOnce) take `mode` and give the sequential values and gradients. Cells without
 * the form, and dropout keys, are refused with the reason.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  bidirectional,
  dropout,
  embedding,
  feedOnce,
  generate,
  linear,
  lstm,
  manyToMany,
  manyToOne,
  mapInput,
  mapOutput,
  minGru,
  minLstm,
  repeatInput,
  residual,
  rnn,
  stack,
  withSizes,
  type AnyCell,
} from "@rewind/rnn";
import { allClose, cellLawsReport, readout } from "@rewind/testing";

/** Width-preserving sizes, so residual and stacks compose. */
const square = { inputSize: 3, hiddenSize: 3 };
const key = T.random.key;

const COMPOSITES: ReadonlyArray<readonly [string, AnyCell]> = [
  ["stack([minGru, minLstm])", stack([minGru, minLstm])],
  ["stack([minGru, minGru], { dropout: 0.3 })", stack([minGru, minGru], { dropout: 0.3 })],
  ["residual(minGru)", residual(minGru)],
  ["mapInput(minLstm, linear(3))", mapInput(minLstm, linear(3))],
  ["mapOutput(minGru, linear(2))", mapOutput(minGru, linear(2))],
  ["dropout(minGru, 0.2)", dropout(minGru, 0.2)],
  ["stack([withSizes(minGru, { hiddenSize: 4 }), minLstm])", stack([withSizes(minGru, { hiddenSize: 4 }), minLstm])],
  [
    "mapOutput(stack([residual(minGru), mapInput(minLstm, linear(3))]), linear(2))",
    mapOutput(stack([residual(minGru), mapInput(minLstm, linear(3))]), linear(2)),
  ],
];

describe("combinators pass their cells' sequence form on, and the parallel law holds", () => {
  it.each(COMPOSITES)("%s", (_, cell) => {
    expect(typeof cell.sequence).toBe("function");
    expect(cellLawsReport(cell, { sizes: square, seed: 3, batch: 3, time: 4, laws: ["parallel"] })).toEqual({
      ran: ["parallel"],
      skipped: [],
    });
  });
  it("token ids through an embedding: mapInput(minGru, embedding(5, 3)) on int32 xs [B, T, 1]", () => {
    const xs = T.fromDataOrThrow([0, 1, 2, 3, 4, 1, 2, 2, 3, 0, 1, 4, 4, 3, 2, 1, 0, 0], [3, 6, 1], "int32");
    const report = cellLawsReport(mapInput(minGru, embedding(5, 3)), {
      sizes: { inputSize: 1, hiddenSize: 3 },
      xs,
      laws: ["parallel"],
    });
    expect(report.ran).toEqual(["parallel"]);
  });
  it("a composite with one cell lacking the form has none, and parallel mode says which", () => {
    for (const cell of [stack([minGru, lstm]), residual(lstm), mapInput(lstm, linear(3)), dropout(lstm, 0.1)])
      expect(cell.sequence).toBeUndefined();
    const mixed = stack([minGru, lstm]);
    const p = mixed.init(key(0), square);
    expect(() => rnn(mixed, p, T.zeros([2, 3, 3]), { mode: "parallel" })).toThrow(
      /^rnn: .*stack\(\[minGru, lstm\]\) has only step \(argument `options\.mode`\)/,
    );
  });
  it("dropout under parallel mode: a key is refused with why, without one dropout is off", () => {
    const cell = dropout(minGru, 0.5);
    const p = cell.init(key(0), square);
    const xs = T.random.normal(key(1), [2, 4, 3]);
    expect(() => rnn(cell, p, xs, { mode: "parallel", key: key(2) })).toThrow(
      /^rnn: the key turns on dropout\(minGru, 0\.5\)'s dropout.*step by step.*\(argument `options\.key`\).*mode "sequential"/,
    );
    const off = rnn(cell, p, xs, { mode: "parallel" });
    expect(off.outputs).toBeAllClose(rnn(minGru, p, xs).outputs, { rtol: 1e-5, atol: 1e-6 });
  });
});

/** Values and gradients (w.r.t. every argument) of `readout(f(mode)(...args))`, both modes compared. */
const expectModesAgree = (f: (mode: "sequential" | "parallel") => (...args: never[]) => unknown, args: unknown[]) => {
  const [par, seq] = (["parallel", "sequential"] as const).map((mode) => {
    const g = f(mode) as (...a: unknown[]) => unknown;
    const loss = (...a: unknown[]) => {
      const out = g(...a);
      return [readout(out), out] as const;
    };
    const argnums = args.map((_, i) => i);
    return A.valueAndGrad(loss, { argnums, hasAux: true })(...(args as never[]));
  });
  const r = allClose(par, seq, { rtol: 1e-10, atol: 1e-12 });
  expect(r.pass, r.message).toBe(true);
};

describe("bidirectional(…).apply with mode", () => {
  const bi = bidirectional(minGru, minLstm);
  const ps = bi.init(key(4), square, { dtype: "float64" });
  const xs = T.random.normal(key(5), [3, 5, 3], "float64");
  const h0 = {
    forward: T.random.normal(key(6), [3, 3], "float64"),
    reverse: T.random.normal(key(7), [3, 3], "float64"),
  };
  for (const timeMajor of [false, true])
    for (const merge of ["concat", "sum"] as const)
      it(`parallel = sequential with lengths, ${merge}, ${timeMajor ? "time-major" : "batch-major"}`, () => {
        const b = bidirectional(minGru, minLstm, { merge });
        const x = timeMajor ? A.transpose(xs, [1, 0, 2]) : xs;
        expectModesAgree(
          (mode) => (p: typeof ps, v: A.Value, init: typeof h0) =>
            b.apply(p, v, { mode, timeMajor, lengths: [5, 2, 0], initialCarry: init }),
          [ps, x, h0],
        );
      });
  it("refuses a direction without a sequence form, naming it", () => {
    const half = bidirectional(minGru, lstm);
    const p = half.init(key(0), square);
    expect(() => half.apply(p, T.zeros([2, 3, 3]), { mode: "parallel" })).toThrow(
      /^bidirectional\.apply: .*the reverse cell lstm has only step \(argument `options\.mode`\)/,
    );
    expect(() => bi.apply(ps, xs, { mode: "parallel", unroll: 2 })).toThrow(/rnn.*options\.unroll/s);
  });
});

describe("the layer shapes with mode", () => {
  const cell = stack([minGru, minLstm]);
  const ps = cell.init(key(8), square, { dtype: "float64" });
  const xs = T.random.normal(key(9), [3, 5, 3], "float64");
  const v = T.random.normal(key(10), [3, 3], "float64");
  for (const reverse of [false, true]) {
    it(`manyToOne, lengths, reverse ${reverse}`, () =>
      expectModesAgree(
        (mode) => (p: typeof ps, x: A.Value) => manyToOne(cell, p, x, { mode, reverse, lengths: [5, 1, 0] }),
        [ps, xs],
      ));
    it(`repeatInput and feedOnce, lengths, reverse ${reverse}`, () => {
      const lengths = [4, 2, 0];
      expectModesAgree(
        (mode) => (p: typeof ps, u: A.Value) => repeatInput(cell, p, u, 4, { mode, reverse, lengths }),
        [ps, v],
      );
      expectModesAgree(
        (mode) => (p: typeof ps, u: A.Value) => feedOnce(cell, p, u, 4, { mode, reverse, lengths }),
        [ps, v],
      );
    });
  }
  it("generate, which feeds each output back, has no parallel mode and says why", () => {
    const p1 = minGru.init(key(13), square);
    const w = T.random.normal(key(14), [3, 5]);
    const table = T.random.normal(key(15), [5, 3]);
    const o = { startToken: 0, batch: 2, maxLength: 3, embed: (ids: A.Value) => A.take(table, ids, 0) };
    expect(() =>
      generate(minGru, p1, { ...o, readout: (y: A.Value) => A.matmul(y, w), mode: "parallel" } as never),
    ).toThrow(
      /^generate: .*feeds each step's chosen token back.*no parallel mode \(argument `options\.mode`\); .*manyToMany/,
    );
  });
  // Regression: the readout wrapper kept the cell's own sequence form, so parallel mode skipped
  // the readout and returned the hidden states ([3, 5, 3] here) instead of [3, 5, 2].
  it("manyToMany applies its readout in parallel mode too (values, gradients, lengths)", () => {
    const w = T.random.normal(key(11), [3, 2], "float64");
    const p1 = minGru.init(key(12), square, { dtype: "float64" });
    const r = manyToMany(minGru, p1, xs, { mode: "parallel", readout: (y) => A.matmul(y, w) });
    expect(r.outputs.shape).toEqual([3, 5, 2]);
    for (const c of [minGru, cell] as AnyCell[])
      for (const reverse of [false, true])
        expectModesAgree(
          (mode) => (p: never, x: A.Value, m: A.Value) =>
            manyToMany(c, p, x, { mode, reverse, lengths: [4, 5, 2], readout: (y) => A.matmul(y, m) }),
          [c === minGru ? p1 : ps, xs, w],
        );
  });
});
