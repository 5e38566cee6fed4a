/**
 * @file `withDebugNans` finds the first primitive of a NaN, wherever it comes from: injected in an
 * argument, made mid-graph (log of a negative, 0/0, Inf − Inf), inside a scan body at step k, or
 * only in the backward pass (sqrt's gradient at 0) — eagerly, under `grad`, and under `jit`
 * (which runs the interpreter while checking). Each report names the primitive, the line where the
 * op was traced (for a backward op: the differentiated op's line, "in the VJP of" it) and, inside
 * a scan, the step. −Inf masks, which are legitimate, raise nothing.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const values = (t: unknown): number[] => Array.from((t as T.Tensor).data, Number);

/** The line number of the line above the call, as the stack reports it: the definition a report must name. */
const lineAbove = (): number => Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[2]!)![1]) - 1;

type NonFinite = Extract<A.GraphError, { _tag: "NonFinite" }>;

/** The NonFinite report `thunk` throws under withDebugNans; fails when it throws nothing. */
const report = (thunk: () => unknown): NonFinite => {
  try {
    A.withDebugNans(thunk);
  } catch (e) {
    if (e instanceof A.GraphException && e.error._tag === "NonFinite") return e.error;
    throw e;
  }
  return expect.unreachable("withDebugNans raised nothing");
};

/** Expects the report to name `op`, traced on `line` of this file, and to match `detail`. */
const expectReport = (r: NonFinite, op: string, line: number, detail: RegExp): void => {
  expect(r.op).toBe(op);
  expect(r.source).toMatch(new RegExp(`numerical-edges-nans\\.test\\.ts:${line}:`));
  expect(r.detail).toMatch(detail);
  expect(A.formatGraphError(r)).toContain(`${op}: `);
};

type Loss = (x: Value) => Value;
/** Differentiated eagerly, and under jit (which runs the interpreter while checking). */
const modes: ReadonlyArray<readonly [string, (f: Loss) => (x: T.Tensor) => unknown]> = [
  ["grad", (f) => A.grad(f)],
  ["jit(grad)", (f) => A.jit(A.grad(f))],
];

describe("withDebugNans: a NaN injected in an argument", () => {
  const f = (x: Value) => A.sum(A.exp(A.mul(x, 2)));
  const line = lineAbove();
  const outside = /input 0 .* already held 1 NaN .* came in from outside/;

  const runs: ReadonlyArray<readonly [string, () => unknown]> = [
    ["eager", () => f(f64([1, NaN]))],
    ["jit", () => A.jit(f)(f64([1, NaN]))],
    ...modes.map(([name, d]) => [name, () => d(f)(f64([1, NaN]))] as const),
  ];
  it.each(runs)("is reported at its first use, the mul (%s)", (_, run) => {
    const r = report(run);
    expect(r.op).toBe("mul");
    expect(r.detail).toMatch(outside);
    // Eager ops are not traced: only traced ones carry a line.
    if (_ !== "eager") expectReport(r, "mul", line, outside);
  });

  it("is not reported where it is looked at without being passed on (a NaN-safe where)", () => {
    const safe = (x: Value) => A.sum(A.where(A.isNaN(x), 0, x));
    expect(T.item(A.withDebugNans(() => A.jit(safe)(f64([1, NaN]))))).toBe(1);
    expect(values(A.withDebugNans(() => A.grad(safe)(f64([1, NaN]))))).toEqual([1, 0]);
  });
});

describe("withDebugNans: a NaN made mid-graph", () => {
  it.each([
    ["eager", (f: (x: Value) => unknown) => f],
    ["jit", A.jit],
  ] as const)("log of a negative, 0/0 and Inf − Inf name their op (%s)", (mode, wrap) => {
    const logNeg = (x: Value) => A.exp(A.log(A.sub(x, 2)));
    const logLine = lineAbove();
    const zeroOverZero = (x: Value) => A.tanh(A.div(A.sub(x, x), A.sub(x, x)));
    const divLine = lineAbove();
    const infMinusInf = (x: Value) => A.tanh(A.sub(A.mul(x, 1), x));
    const subLine = lineAbove();
    const cases = [
      [logNeg, f64([3, 1]), "log", logLine, /1 NaN\/Inf value.* all inputs were finite/],
      [zeroOverZero, f64([1.5]), "div", divLine, /all inputs were finite/],
      [infMinusInf, f64([Infinity]), "sub", subLine, /no input held a NaN \(an input held ±Inf/],
    ] as const;
    for (const [f, x, op, line, detail] of cases) {
      const r = report(() => wrap(f)(x));
      if (mode === "eager") expect([r.op, r.detail]).toEqual([op, expect.stringMatching(detail)]);
      else expectReport(r, op, line, detail);
    }
  });

  it("an overflow to Inf is blamed on the op that overflowed (exp), not on the Inf − Inf after it", () => {
    const f = (x: Value) => A.sub(A.exp(x), A.exp(x));
    const line = lineAbove();
    expectReport(
      report(() => A.jit(f)(f64([1000]))),
      "exp",
      line,
      /all inputs were finite/,
    );
  });
});

describe("withDebugNans: inside a scan body at step k", () => {
  // log meets x = −1 at t = 2 of 4.
  const step = (c: Value, x: Value) => [A.add(c, A.log(x)), c] as const;
  const line = lineAbove();
  const xs = f64([[1], [2], [-1], [3]]);

  it.each([
    ["eager", () => A.scan(step, f64([0]), xs)],
    ["jit", () => A.jit((x: Value) => A.scan(step, f64([0]), x))(xs)],
    ["jit, checkpointed every 2", () => A.jit((x: Value) => A.scan(step, f64([0]), x, { remat: { every: 2 } }))(xs)],
  ])("names the op, its line and the step (%s)", (mode, run) => {
    const r = report(run);
    expectReport(
      r,
      "log",
      line,
      mode.includes("every")
        ? /at step t = 0 of a scan of length 2; at step t = 1 of a scan of length 2/
        : /at step t = 2 of a scan of length 4/,
    );
  });
});

describe("withDebugNans: a NaN or Inf made only in the backward pass", () => {
  // sqrt(0) = 0 is fine forward; its gradient 1 / (2 √0) is Inf.
  const f = (x: Value) => A.sum(A.sqrt(x));
  const line = lineAbove();

  it.each(modes)("sqrt's gradient at 0 is blamed on div, in the VJP of sqrt, at sqrt's line (%s)", (_, d) => {
    const r = report(() => d(f)(f64([0, 4])));
    expectReport(r, "div", line, /all inputs were finite/);
    expect(r.source).toMatch(/\(in the VJP of sqrt\)$/);
  });

  it.each(modes)("inside a scan: the backward step is named, counted in time order (%s)", (_, d) => {
    const step = (c: Value, x: Value) => [A.add(c, A.sqrt(x)), c] as const;
    const stepLine = lineAbove();
    const loss = (x: Value) => A.sum(A.scan(step, f64([0]), x)[0]);
    const r = report(() => d(loss)(f64([[1], [2], [0], [3]])));
    expectReport(r, "div", stepLine, /at step t = 2 of a scan of length 4, run last to first/);
    expect(r.source).toMatch(/\(in the VJP of sqrt\)$/);
  });
});

describe("withDebugNans: −Inf masks are not errors", () => {
  it("masked softmax and logSumExp, and their gradients, run clean", () => {
    const x = f64([
      [0, -Infinity, 2],
      [-Infinity, 1, -Infinity],
    ]);
    const loss = (v: Value) => A.add(A.sum(A.mul(A.softmax(v), f64([1, 2, 3]))), A.sum(A.logSumExp(v, { axis: -1 })));
    const g = A.withDebugNans(() => A.jit(A.grad(loss))(x));
    expect(values(g).every(Number.isFinite)).toBe(true);
    expect(values(g)[1]).toBe(0);
  });
});
