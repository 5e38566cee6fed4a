/**
 * @file Fuzz specs of the RNN half of @rewind/testing: `cellCase`/`arbCellCase` build what they
 * document, `rnnUnrolled` matches the float64 reference of the rnn suite, every cell law holds
 * for Rewind's own implementations and fails — with an Error naming the law and the case — for a
 * deliberately broken one; wrong-typed cases, options and law names are refused (a misspelt law
 * must not make `cellLaws` silently check nothing).
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import * as X from "@rewind/testing";
import { expectNear, NOT_OPTIONS, prop, type Spec } from "../apiKit.js";
import { arbRunCase, expectFinal, referenceRun, runArgs } from "../rnnSpecs/sequence.js";
import { misspeltCases } from "../options.js";
import { expectViolation, refuseEach } from "./errors.js";
import { dropsLast } from "../../../packages/testing/test/brokenVmaps.js";

/** Misspelt-key cases of one options argument of @rewind/testing (whose errors are RewindErrors). */
const typos = (
  name: string,
  known: readonly string[],
  base: Record<string, unknown>,
  call: (o: Record<string, unknown>) => unknown,
): number => misspeltCases({ names: [name], error: T.RewindError, known, base, call });

/** The keys of the options objects, as the documentation states them. */
const CASE_KEYS = [
  "sizes",
  "dtype",
  "seed",
  "batch",
  "time",
  "params",
  "xs",
  "lengths",
  "key",
  "timeMajor",
  "reverse",
  "initialCarry",
];
const ARB_CASE_KEYS = ["sizes", "maxBatch", "minTime", "maxTime", "timeMajor", "reverse", "lengths", "key"];
const CHECK_KEYS = [
  "rtol",
  "atol",
  "order",
  "modes",
  "segments",
  "stackWith",
  "rnn",
  "stack",
  "bidirectional",
  "jit",
  "vmap",
];
const CELL_LAWS_KEYS = [
  ...CHECK_KEYS,
  "sizes",
  "dtype",
  "seed",
  "batch",
  "time",
  "params",
  "xs",
  "initialCarry",
  "lengths",
  "key",
  "laws",
  "configs",
];

const sizes = { inputSize: 1, hiddenSize: 2 };
const small = { sizes, batch: 3, time: 3, configs: [{ timeMajor: true, reverse: true, lengths: true, key: false }] };
const NOT_CELLS: readonly unknown[] = [null, 5, {}, "gru"];

/** Implementations that each break one law. */
const ignoresLengths: X.RnnImpl = (cell, p, xs, o = {}) => R.rnn(cell, p, xs, { ...o, lengths: undefined as never });
const ignoresReverse: X.RnnImpl = (cell, p, xs, o = {}) => R.rnn(cell, p, xs, { ...o, reverse: false });
/** A stack whose output is twice the last layer's. */
const doublingStack: X.StackImpl = (cells) => {
  const inner = R.stack(cells);
  return {
    ...inner,
    step: (p) => {
      const step = inner.step(p);
      return (c, x, noise) => {
        const [next, y] = step(c, x, noise);
        return [next, A.mul(y, 2)];
      };
    },
  };
};
const scaledJit: X.JitImpl =
  <Args extends unknown[], Ret>(f: (...args: Args) => Ret) =>
  (...args: Args): Ret =>
    A.mul(f(...args) as A.Value, 1.001) as Ret;
/** An rnn whose parallel mode reads every sequence forward (the sequential mode is right). */
const parallelIgnoresReverse: X.RnnImpl = (cell, p, xs, o = {}) =>
  R.rnn(cell, p, xs, o.mode === "parallel" ? { ...o, reverse: false } : o);
const biIgnoresLengths: X.BidirectionalImpl = (f, b, o) => {
  const bi = R.bidirectional(f, b, o);
  return { ...bi, apply: (p, xs, ao = {}) => bi.apply(p, xs, { ...ao, lengths: undefined as never }) };
};

export const cellCaseSpec: Spec = () =>
  prop(
    fc.record({
      cell: fc.constantFrom(R.gru, R.lstm, R.mgu),
      batch: fc.integer({ min: 0, max: 3 }),
      time: fc.integer({ min: 0, max: 3 }),
      seed: fc.nat(),
      timeMajor: fc.boolean(),
      reverse: fc.boolean(),
    }),
    (o) => {
      const c = X.cellCase(o.cell, {
        sizes,
        batch: o.batch,
        time: o.time,
        seed: o.seed,
        timeMajor: o.timeMajor,
        reverse: o.reverse,
        lengths: X.defaultLengths(o.batch, o.time, o.seed),
      });
      expect(c.xs.shape).toEqual(o.timeMajor ? [o.time, o.batch, 1] : [o.batch, o.time, 1]);
      expect([c.timeMajor, c.reverse, c.lengths?.length]).toEqual([o.timeMajor, o.reverse, o.batch]);
      expect(A.treeLeaves([c.params, c.initialCarry]).every((l) => l.dtype === "float64")).toBe(true);
    },
    10,
  ) +
  refuseEach(["cellCase"], NOT_CELLS, (cell) => X.cellCase(cell as never, { sizes })) +
  refuseEach(
    ["cellCase", "cell laws"],
    [
      null,
      5,
      {},
      { sizes: null },
      { sizes, batch: -1 },
      { sizes, time: 1.5 },
      { sizes, dtype: "float32" },
      { sizes, lengths: [9, 0, 0] },
      { sizes, xs: [[1]] },
      { sizes, xs: T.zeros([3]) },
    ],
    (o) => X.cellCase(R.gru, o as never),
  ) +
  refuseEach(["gru.init"], [{ sizes: { inputSize: 0, hiddenSize: 2 } }], (o) => X.cellCase(R.gru, o as never)) +
  typos("cellCase", CASE_KEYS, { sizes, batch: 2 }, (o) => X.cellCase(R.gru, o as never));

export const arbCellCaseSpec: Spec = () =>
  prop(
    fc.record({ maxTime: fc.integer({ min: 0, max: 3 }), seed: fc.nat() }),
    ({ maxTime, seed }) => {
      for (const c of fc.sample(X.arbCellCase(R.gru, { sizes, maxBatch: 2, maxTime, lengths: true }), {
        numRuns: 3,
        seed,
      })) {
        const time = c.xs.shape[c.timeMajor ? 0 : 1]!;
        expect(time).toBeLessThanOrEqual(maxTime);
        expect(c.lengths!.every((l) => l >= 0 && l <= time)).toBe(true);
      }
    },
    6,
  ) +
  refuseEach(["arbCellCase"], NOT_CELLS, (cell) => X.arbCellCase(cell as never, { sizes })) +
  refuseEach(
    ["arbCellCase", "arbRaggedBatch"],
    [null, {}, { sizes: 5 }, { sizes, maxBatch: 0 }, { sizes, maxTime: -1 }],
    (o) => X.arbCellCase(R.gru, o as never),
  ) +
  typos("arbCellCase", ARB_CASE_KEYS, { sizes }, (o) => X.arbCellCase(R.gru, o as never));

export const describeCaseSpec: Spec = () =>
  prop(
    fc.record({ timeMajor: fc.boolean(), reverse: fc.boolean(), lengths: fc.boolean() }),
    (o) => {
      const c = X.cellCase(R.lstm, {
        sizes,
        batch: 2,
        time: 4,
        timeMajor: o.timeMajor,
        reverse: o.reverse,
        ...(o.lengths ? { lengths: [1, 4] } : {}),
      });
      const text = X.describeCase(c);
      expect(text.startsWith("lstm (B 2, T 4, ")).toBe(true);
      expect(text).toContain(o.timeMajor ? "time-major" : "batch-major");
      expect(text).toContain(o.reverse ? "reverse" : "forward");
      if (o.lengths) expect(text).toContain("lengths [1, 4]");
    },
    6,
  ) + refuseEach(["describeCase"], [null, 5, {}, { cell: R.gru }], (c) => X.describeCase(c as never));

export const defaultLengthsSpec: Spec = () =>
  prop(
    fc.record({
      batch: fc.integer({ min: 0, max: 6 }),
      time: fc.integer({ min: 0, max: 6 }),
      seed: fc.nat({ max: 1000 }),
    }),
    ({ batch, time, seed }) => {
      const ls = X.defaultLengths(batch, time, seed);
      expect(ls.length).toBe(batch);
      expect(ls.every((l) => Number.isInteger(l) && l >= 0 && l <= time)).toBe(true);
      // [mid, T, 0, …]: the mix the padding law needs.
      if (batch > 1) expect(ls[1]).toBe(time);
      if (batch > 2) expect(ls[2]).toBe(0);
      if (batch > 0 && time >= 2) expect(ls[0]! > 0 && ls[0]! < time).toBe(true);
    },
    15,
  ) +
  refuseEach(
    ["defaultLengths"],
    [
      [-1, 3],
      [2, 1.5],
      [NaN, 3],
      ["2", 3],
      [2, 3, -1],
    ],
    ([b, t, s]) => X.defaultLengths(b as number, t as number, s as number),
  );

export const rnnUnrolledSpec: Spec = () =>
  prop(
    arbRunCase(),
    (c) => {
      const { xs, opts } = runArgs(c);
      const out = X.rnnUnrolled(c.cell, c.params, xs, {
        initialCarry: opts.initialCarry,
        timeMajor: c.timeMajor,
        reverse: c.reverse,
        ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
      });
      const ref = referenceRun(c);
      expectNear(`rnnUnrolled(${c.cell.name})`, out.outputs, ref.outputs, ref.shape);
      expectFinal(`rnnUnrolled(${c.cell.name})`, c.cell.name, out.finalCarry, ref.finals, c.hidden);
    },
    20,
  ) +
  refuseEach(["rnnUnrolled"], NOT_CELLS, (cell) => X.rnnUnrolled(cell as never, {}, T.zeros([1, 1, 1], "float64"))) +
  refuseEach(
    ["rnnUnrolled", "cell laws"],
    [...NOT_OPTIONS, { lengths: [9] }, { lengths: "ab" }, { lengths: [0.5] }],
    (o) =>
      X.rnnUnrolled(
        R.gru,
        R.gru.init(T.random.key(0), sizes, { dtype: "float64" }),
        T.zeros([1, 2, 1], "float64"),
        o as never,
      ),
  ) +
  refuseEach(["rnnUnrolled"], [null, T.zeros([2], "float64"), [[1]]], (xs) =>
    X.rnnUnrolled(R.gru, R.gru.init(T.random.key(0), sizes, { dtype: "float64" }), xs as never),
  ) +
  typos("rnnUnrolled", ["initialCarry", "lengths", "timeMajor", "reverse", "key"], { reverse: true }, (o) =>
    X.rnnUnrolled(R.gru, R.gru.init(T.random.key(0), sizes, { dtype: "float64" }), T.zeros([1, 2, 1], "float64"), o),
  );

const caseOf = (cell: R.AnyCell = R.gru) =>
  X.cellCase(cell, { sizes, batch: 3, time: 3, lengths: [1, 3, 0], reverse: true });

export const cellLawChecksSpec: Spec = () => {
  const c = caseOf();
  const layers = [R.gru, R.lstm] as const;
  const stacked = X.cellCase(R.stack([...layers]), { sizes, batch: 2, time: 2, lengths: [2, 1] });
  X.cellLawChecks.bptt(c);
  X.cellLawChecks.reverse(c);
  X.cellLawChecks.invariance(c, { segments: [2] });
  X.cellLawChecks.padding(c);
  X.cellLawChecks.bidirectionalPadding(c);
  X.cellLawChecks.stacking(stacked, layers);
  X.cellLawChecks.vmap(c);
  const parallelCase = caseOf(R.minGru);
  X.cellLawChecks.parallel(parallelCase);
  expectViolation(/^parallel law violated for minGru/, () =>
    X.cellLawChecks.parallel(parallelCase, { rnn: parallelIgnoresReverse }),
  );
  expectViolation(/^BPTT law violated for gru/, () => X.cellLawChecks.bptt(c, { rnn: ignoresLengths }));
  expectViolation(/^reverse law violated for gru/, () => X.cellLawChecks.reverse(c, { rnn: ignoresReverse }));
  expectViolation(/^invariance law violated for gru/, () =>
    X.cellLawChecks.invariance(c, { segments: [2], jit: scaledJit }),
  );
  expectViolation(/^padding law violated for gru/, () => X.cellLawChecks.padding(c, { rnn: ignoresLengths }));
  expectViolation(/^bidirectional padding law violated for bidirectional\(gru, gru\)/, () =>
    X.cellLawChecks.bidirectionalPadding(c, { bidirectional: biIgnoresLengths }),
  );
  expectViolation(/^stacking law violated for stack/, () =>
    X.cellLawChecks.stacking(X.cellCase(doublingStack([...layers]), { sizes, batch: 2, time: 2 }), layers),
  );
  expectViolation(/^vmap law violated for gru/, () => X.cellLawChecks.vmap(c, { vmap: dropsLast }));
  let n = 16 + refuseEach(["cellLawChecks.parallel"], [c], (gruCase) => X.cellLawChecks.parallel(gruCase));
  for (const law of Object.keys(X.cellLawChecks) as (keyof typeof X.cellLawChecks)[]) {
    const check = (cs: unknown, o?: unknown): void =>
      law === "stacking"
        ? X.cellLawChecks.stacking(cs as X.CellCase, layers, o as never)
        : X.cellLawChecks[law](cs as X.CellCase, o as never);
    n += refuseEach([`cellLawChecks.${law}`], [null, 5, {}, { cell: R.gru, xs: [[1]] }], (bad) => check(bad));
    const own = law === "stacking" ? stacked : law === "parallel" ? parallelCase : c;
    n += typos(`cellLawChecks.${law}`, CHECK_KEYS, { rtol: 1e-9 }, (o) => check(own, o));
  }
  return n;
};

export const cellLawNamesSpec: Spec = () => {
  expect(X.cellLawNames).toEqual([
    "bptt",
    "reverse",
    "invariance",
    "padding",
    "bidirectionalPadding",
    "stacking",
    "vmap",
    "parallel",
  ]);
  expect(Object.keys(X.cellLawChecks).sort()).toEqual([...X.cellLawNames].sort());
  return 2;
};

export const cellLawConfigsSpec: Spec = () => {
  for (const noisy of [false, true]) {
    const configs = X.cellLawConfigs(noisy);
    expect(configs.length).toBe(noisy ? 8 : 4);
    // Every pair of settings meets in some configuration.
    const flags = noisy
      ? (["timeMajor", "reverse", "lengths", "key"] as const)
      : (["timeMajor", "reverse", "lengths"] as const);
    for (const a of flags)
      for (const b of flags)
        for (const va of [false, true])
          for (const vb of [false, true]) {
            if (a !== b)
              expect(
                configs.some((c) => c[a] === va && c[b] === vb),
                `${a}=${va}, ${b}=${vb}`,
              ).toBe(true);
          }
  }
  return 2 + refuseEach(["cellLawConfigs"], ["x", 1, null], (noisy) => X.cellLawConfigs(noisy as never));
};

export const cellLawsSpec: Spec = () => {
  X.cellLaws(R.gru, { ...small, laws: ["reverse", "padding"] });
  expectViolation(/^padding law violated for gru/, () =>
    X.cellLaws(R.gru, { ...small, laws: ["padding"], rnn: ignoresLengths }),
  );
  return (
    2 +
    refuseEach(["cellLaws"], NOT_CELLS, (cell) => X.cellLaws(cell as never, small)) +
    refuseEach(
      ["cellLaws"],
      [
        null,
        5,
        { ...small, laws: [] },
        { ...small, laws: ["padding", "paddding"] },
        { ...small, laws: "bptt" },
        { ...small, configs: [] },
        { ...small, configs: [{ timeMajor: "yes" }] },
      ],
      (o) => X.cellLaws(R.gru, o as never),
    ) +
    typos("cellLaws", CELL_LAWS_KEYS, small, (o) => X.cellLaws(R.gru, o as never)) +
    // Each configuration is an options object of its own.
    typos("cellLaws", ["timeMajor", "reverse", "lengths", "key"], small.configs[0]!, (cfg) =>
      X.cellLaws(R.gru, { ...small, configs: [cfg as never] }),
    )
  );
};

export const cellLawsReportSpec: Spec = () => {
  // gru has only step: every law but parallel runs, and parallel is reported as skipped, with why.
  expect(X.cellLawsReport(R.gru, small)).toEqual({
    ran: ["bptt", "reverse", "invariance", "padding", "bidirectionalPadding", "stacking", "vmap"],
    skipped: [{ law: "parallel", reason: "gru has no sequence form (only step)" }],
  });
  const unpadded = { ...small, configs: [{ timeMajor: false, reverse: false, lengths: false, key: false }] };
  expect(X.cellLawsReport(R.minGru, { ...unpadded, laws: ["padding", "parallel"] })).toEqual({
    ran: ["parallel"],
    skipped: [{ law: "padding", reason: "no configuration has lengths" }],
  });
  return (
    2 +
    refuseEach(["cellLaws"], NOT_CELLS, (cell) => X.cellLawsReport(cell as never, small)) +
    refuseEach(["cellLaws"], [null, 5, { ...small, laws: [] }, { ...small, laws: ["parallel"] }], (o) =>
      X.cellLawsReport(R.gru, o as never),
    ) +
    typos("cellLaws", CELL_LAWS_KEYS, small, (o) => X.cellLawsReport(R.gru, o as never))
  );
};

export const parallelLawForCellSpec: Spec = () => {
  X.parallelLawForCell(R.minGru, small);
  X.parallelLawForCell(R.minLstm, small);
  expectViolation(/^parallel law violated for minGru/, () =>
    X.parallelLawForCell(R.minGru, { ...small, rnn: parallelIgnoresReverse }),
  );
  return (
    3 +
    // A cell with only step: the law does not apply, and asking for it alone must not pass.
    refuseEach(["cellLaws"], [...NOT_CELLS, R.gru], (cell) => X.parallelLawForCell(cell as never, small)) +
    refuseEach(["cellLaws"], [null, 5], (o) => X.parallelLawForCell(R.minGru, o as never)) +
    typos("cellLaws", CELL_LAWS_KEYS, small, (o) => X.parallelLawForCell(R.minGru, o as never))
  );
};

/** The one-law entry points: each holds for gru, fails for its broken implementation, refuses a non-cell. */
const oneLaw =
  (run: (cell: R.AnyCell, o: X.CellLawsOptions) => void, broken: Partial<X.CellLawsOptions>, pattern: RegExp): Spec =>
  () => {
    run(R.gru, small);
    expectViolation(pattern, () => run(R.gru, { ...small, ...broken }));
    return (
      2 +
      refuseEach(["cellLaws"], NOT_CELLS, (cell) => run(cell as never, small)) +
      refuseEach(["cellLaws"], [null, 5], (o) => run(R.gru, o as never)) +
      typos("cellLaws", CELL_LAWS_KEYS, small, (o) => run(R.gru, o as never))
    );
  };

export const bpttLawForCellSpec = oneLaw(X.bpttLawForCell, { rnn: ignoresLengths }, /^BPTT law violated/);
export const reverseLawForCellSpec = oneLaw(X.reverseLawForCell, { rnn: ignoresReverse }, /^reverse law violated/);
export const invarianceLawForCellSpec = oneLaw(
  (c, o) => X.invarianceLawForCell(c, { ...o, segments: [2] }),
  { jit: scaledJit },
  /^invariance law violated/,
);
export const paddingLawSpec = oneLaw(X.paddingLaw, { rnn: ignoresLengths }, /^padding law violated/);
export const bidirectionalPaddingLawSpec = oneLaw(
  X.bidirectionalPaddingLaw,
  { bidirectional: biIgnoresLengths },
  /^bidirectional padding law violated/,
);
export const stackingLawSpec = oneLaw(
  (c, o) => X.stackingLaw(c, R.lstm, o),
  { stack: doublingStack },
  /^stacking law violated/,
);

export const cellLawPropertiesSpec: Spec = () => {
  const props = X.cellLawProperties(R.gru, { sizes, maxBatch: 2, maxTime: 2 });
  for (const name of ["reverse", "padding", "stacking"] as const) fc.assert(props[name], { numRuns: 2 });
  const broken = X.cellLawProperties(R.gru, {
    sizes,
    maxBatch: 2,
    minTime: 2,
    maxTime: 2,
    lengths: true,
    rnn: ignoresLengths,
  });
  // fast-check reports the law's own Error as the failure.
  const run = fc.check(broken.padding, { numRuns: 10 });
  expect(run.failed).toBe(true);
  expectViolation(/^padding law violated for gru/, () => {
    throw run.errorInstance;
  });
  return (
    7 +
    refuseEach(["cellLawProperties"], NOT_CELLS, (cell) => X.cellLawProperties(cell as never, { sizes })) +
    refuseEach(["cellLawProperties", "arbRaggedBatch"], [null, 5, { sizes, maxTime: -1 }], (o) =>
      X.cellLawProperties(R.gru, o as never),
    ) +
    typos("cellLawProperties", [...ARB_CASE_KEYS, ...CHECK_KEYS], { sizes }, (o) =>
      X.cellLawProperties(R.gru, o as never),
    )
  );
};

export const arbVmapCaseSpec: Spec = () =>
  prop(
    fc.record({
      dtype: fc.constantFrom("float32" as const, "float64" as const),
      maxBatch: fc.integer({ min: 1, max: 3 }),
      shared: fc.boolean(),
      seed: fc.nat(),
    }),
    ({ dtype, maxBatch, shared, seed }) => {
      for (const c of fc.sample(X.arbVmapCase({ dtype, maxBatch, shared }), { numRuns: 2, seed })) {
        const [x, w] = c.args as [T.Tensor, T.Tensor];
        const n = x.shape[0]!;
        expect(n >= 1 && n <= maxBatch).toBe(true);
        expect([x.dtype, w.dtype]).toEqual([dtype, dtype]);
        expect(w.shape).toEqual(shared ? [x.shape[2], x.shape[2]] : [n, x.shape[2], x.shape[2]]);
        X.laws.vmap(c, shared ? { inAxes: [0, null] } : {});
      }
    },
    6,
  ) +
  refuseEach(
    ["arbVmapCase"],
    [null, 5, { dtype: "int32" }, { maxBatch: 0 }, { maxBatch: 1.5 }, { shared: "yes" }],
    (o) => X.arbVmapCase(o as never),
  ) +
  typos("arbVmapCase", ["dtype", "maxBatch", "shared"], { maxBatch: 2 }, (o) => X.arbVmapCase(o));
