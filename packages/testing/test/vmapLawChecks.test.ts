/**
 * @file The vmap law on random compositions (fast-check), and each of its checks FAILING on a
 * deliberately broken `vmap`, `jit` or `rnn` injected through the options — with a message
 * naming the law, the leaf and the example — for functions (`laws.vmap`) and cells
 * (`cellLawChecks.vmap`, `cellLaws`); wrong arguments are refused.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { dropsLast } from "./brokenVmaps.js";
import { dropout, gru, lstm, rnn } from "@rewind/rnn";
import {
  arbVmapCase,
  cellCase,
  cellLawChecks,
  cellLawProperties,
  cellLaws,
  lawProperties,
  laws,
  type JitImpl,
  type RnnImpl,
  type VmapImpl,
} from "../src/index.js";

const x = T.random.normal(T.random.key(1), [4, 2, 3], "float64");
const w = T.random.normal(T.random.key(2), [3, 2], "float64");
const matmulCase = { f: (a: A.Value, b: A.Value) => A.matmul(a, b), args: [x, w], name: "matmul" };
const shared = { inAxes: [0, null] } as const;

// ---- Broken transforms, each a plausible bug ----
/** Right values, but a doubled cotangent: a batched VJP that counts its input twice. */
const doublesGradient: VmapImpl =
  (f, o) =>
  (...args) =>
    A.treeMap(
      (y) => {
        const s = A.stopGradient(y);
        return A.add(s, A.mul(A.sub(y, s), 2));
      },
      A.vmap(f, o)(...args),
    );
/** Drops the gradient of every unbatched argument: a rule that forgets to sum over the examples. */
const stopsShared: VmapImpl =
  (f, o) =>
  (...args) =>
    A.vmap(f, o)(...(args.map((a, i) => (i === 1 ? A.treeMap(A.stopGradient, a) : a)) as typeof args));
/** A jit whose outputs are off by one part in 2²⁰. */
const roundingJit: JitImpl =
  <Args extends unknown[], R>(f: (...args: Args) => R) =>
  (...args: Args): R =>
    A.treeMap<R>((y) => A.mul(y, 1 + 2 ** -20), f(...args));
/** A jit that is exact on the first function it compiles and off on the next (the gradient). */
const secondJitWrong = (): JitImpl => {
  let calls = 0;
  return <Args extends unknown[], R>(f: (...args: Args) => R) => (++calls === 1 ? f : roundingJit(f));
};

describe("laws.vmap on random compositions", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`${dtype}: both arguments batched`, () =>
      fc.assert(lawProperties.vmap(arbVmapCase({ dtype })), { numRuns: 25 }));
    it(`${dtype}: the weights shared (inAxes [0, null])`, () =>
      fc.assert(lawProperties.vmap(arbVmapCase({ dtype, shared: true }), shared), { numRuns: 25 }));
  }
  it("pytrees of arguments with prefix inAxes and outAxes on another axis", () => {
    const f = (p: { w: A.Value; b: A.Value }, xs: A.Value) => ({ y: A.tanh(A.add(A.matmul(xs, p.w), p.b)), n: p.b });
    const p = { w, b: T.random.normal(T.random.key(3), [2], "float64") };
    laws.vmap({ f, args: [p, x] }, { inAxes: [{ w: null, b: null }, 0], outAxes: { y: 1, n: null } });
  });
});

it("laws.vmap on an empty batch (no example; a shared argument's gradient is zero)", () =>
  laws.vmap({ ...matmulCase, args: [T.zeros([0, 2, 3], "float64"), w] }, shared));

describe("laws.vmap fails on a broken transform, naming the law, leaf and example", () => {
  it("values: a vmap whose last example is the first's", () =>
    expect(() => laws.vmap(matmulCase, { ...shared, vmap: dropsLast })).toThrow(
      /^vmap law violated for matmul:\n {2}example 3 of vmap\(f\) vs f on example 3 alone: out: 4 of 4 elements differ .*worst at/,
    ));
  it("gradients of batched arguments: a doubled cotangent", () =>
    expect(() => laws.vmap(matmulCase, { ...shared, vmap: doublesGradient })).toThrow(
      /example 0 of the gradient of vmap\(f\) vs f's gradient on it: grad\.args\[0\]: 6 of 6 elements differ/,
    ));
  it("gradients of shared arguments: a rule that does not sum them over the examples", () =>
    expect(() => laws.vmap(matmulCase, { ...shared, vmap: stopsShared })).toThrow(
      /gradient of vmap\(f\) vs the per-example gradients summed: grad\.args\[1\]: 6 of 6 elements differ/,
    ));
  it("structure: a vmap that loses an output", () => {
    const pair = { f: (a: A.Value) => [A.tanh(a), A.sin(a)], args: [x], name: "pair" };
    const losesOne: VmapImpl =
      (f, o) =>
      (...args) =>
        [(A.vmap(f, o)(...args) as unknown[])[0]] as never;
    expect(() => laws.vmap(pair, { vmap: losesOne })).toThrow(
      /^vmap law violated for pair:\n {2}example 0 of vmap\(f\) vs f on example 0 alone: out has 1 leaves where 2/,
    );
  });
  it("jit of the values, bit for bit", () =>
    expect(() => laws.vmap(matmulCase, { ...shared, jit: roundingJit })).toThrow(
      /jit\(vmap\(f\)\) vs vmap\(f\), bit for bit: out: 16 of 16 elements differ \(rtol 0, atol 0\)/,
    ));
  it("jit of the gradients, bit for bit", () =>
    expect(() => laws.vmap(matmulCase, { ...shared, jit: secondJitWrong() })).toThrow(
      /jit of the gradient of vmap\(f\) vs it, bit for bit: grad\[\d\]/,
    ));
  it("a function that mixes the examples (subtracting the batch mean) is no per-example function", () => {
    // Written for a whole batch, not for one example: vmap of it centres each example on its own.
    const centred = (v: A.Value) => A.sub(v, A.mean(v, { axis: 0 }));
    expect(() => laws.vmap({ f: centred, args: [x], name: "centred" })).not.toThrow();
    /** No vmap at all: f run once on the whole batch. */
    const mixes: VmapImpl = (f) => f;
    expect(() => laws.vmap({ f: centred, args: [x], name: "centred" }, { vmap: mixes })).toThrow(
      /^vmap law violated for centred:\n {2}example 0 of vmap\(f\) vs f on example 0 alone/,
    );
  });
  it("float32 leaves are compared with float32 tolerances, float64 ones with LAW_TOLERANCES", () => {
    const off =
      (scale: number): VmapImpl =>
      (f, o) =>
      (...args) =>
        A.treeMap((y) => A.mul(y, 1 + scale), A.vmap(f, o)(...args));
    const x32 = A.astype(x, "float32") as T.Tensor;
    const w32 = A.astype(w, "float32") as T.Tensor;
    expect(() =>
      laws.vmap({ ...matmulCase, args: [x32, w32] }, { ...shared, vmap: off(1e-7), grad: false }),
    ).not.toThrow();
    expect(() => laws.vmap({ ...matmulCase, args: [x32, w32] }, { ...shared, vmap: off(1e-3), grad: false })).toThrow(
      /rtol 0\.00001/,
    );
    expect(() => laws.vmap(matmulCase, { ...shared, vmap: off(1e-7), grad: false })).toThrow(/rtol 1e-10/);
  });
  it("lawProperties.vmap reports the law's own violation as the counterexample", () => {
    const run = fc.check(
      lawProperties.vmap(
        arbVmapCase({ maxBatch: 3 }).filter((c) => (c.args[0] as T.Tensor).shape[0]! > 1),
        { vmap: dropsLast },
      ),
      { numRuns: 5 },
    );
    expect(run.failed).toBe(true);
    expect(String((run.errorInstance as Error).message)).toMatch(/^vmap law violated for .* \(\d examples of \[/);
  });
});

describe("laws.vmap refuses wrong arguments", () => {
  const refused = (call: () => unknown, text: RegExp) =>
    expect(call).toThrow(
      expect.objectContaining({
        error: expect.objectContaining({ _tag: "TestArgumentError" }),
        message: expect.stringMatching(text),
      }),
    );
  it("a case that is not { f, args }, or options it does not know", () => {
    refused(() => laws.vmap(null as never), /laws\.vmap: argument `c`/);
    refused(() => laws.vmap({ f: 5, args: [] } as never), /argument `c\.f` must be a function/);
    refused(() => laws.vmap(matmulCase, { inAxs: 0 } as never), /unknown key "inAxs"/);
    refused(() => laws.vmap(matmulCase, { grad: "yes" } as never), /`o\.grad` must be true or false/);
  });
  it("inAxes that do not fit the arguments, or an axis out of range", () => {
    refused(() => laws.vmap(matmulCase, { inAxes: [0] }), /`o\.inAxes` is an array of 1 where args is one of 2/);
    refused(
      () => laws.vmap(matmulCase, { inAxes: [0, 2] }),
      /gives args\[1\] \(rank 2\) the axis 2, outside \[-2, 2\)/,
    );
    refused(() => laws.vmap(matmulCase, { inAxes: null }), /`o\.axisSize` is needed/);
  });
});

// ---- The vmap law of a cell ----
const sizes = { inputSize: 2, hiddenSize: 3 };
const padded = cellCase(gru, { sizes, batch: 3, time: 4, lengths: [2, 4, 0] });
/** An rnn that ignores `lengths` on a batch of one: a special case for B = 1 gone wrong. */
const singleIgnoresLengths: RnnImpl = (cell, p, xs, o = {}) => {
  const batch = xs.shape[o.timeMajor === true ? 1 : 0];
  const { lengths: _l, ...rest } = o;
  return rnn(cell, p, xs, batch === 1 ? rest : o);
};

describe("the vmap law of a cell fails on a broken vmap, rnn or jit", () => {
  it("holds for gru and lstm, padded or not, in every configuration", () => {
    cellLawChecks.vmap(padded);
    cellLaws(lstm, { sizes, laws: ["vmap"] });
  });
  it("holds with dropout, keyed and unkeyed (each sample gets its own noise rows under vmap)", () =>
    cellLaws(dropout(gru, 0.3), { sizes, laws: ["vmap"] }));
  it("a vmap whose last example is the first's", () =>
    expect(() => cellLawChecks.vmap(padded, { vmap: dropsLast })).toThrow(
      /^vmap law violated for gru \(B 3, T 4, .*\n {2}vmap of rnn on one sequence vs rnn over the batch: outputs/,
    ));
  it("a doubled cotangent: the gradients differ (the first path in key order is the initial carry's)", () =>
    expect(() => cellLawChecks.vmap(padded, { vmap: doublesGradient })).toThrow(
      /rnn over the batch: grad\.initialCarry: 9 of 9 elements differ/,
    ));
  it("an rnn that ignores lengths on a batch of one", () =>
    expect(() => cellLawChecks.vmap(padded, { rnn: singleIgnoresLengths })).toThrow(/^vmap law violated for gru/));
  it("a jit that is not bit-identical", () =>
    expect(() => cellLawChecks.vmap(padded, { jit: roundingJit })).toThrow(
      /jit\(vmap\(…\)\) vs vmap\(…\), bit for bit/,
    ));
  it("through cellLaws and cellLawProperties", () => {
    expect(() => cellLaws(gru, { sizes, laws: ["vmap"], vmap: dropsLast })).toThrow(/^vmap law violated for gru/);
    const run = fc.check(cellLawProperties(gru, { sizes, maxBatch: 3, minTime: 2, vmap: dropsLast }).vmap, {
      numRuns: 10,
    });
    expect(run.failed).toBe(true);
  });
});
