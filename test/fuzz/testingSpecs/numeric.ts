/**
 * @file Fuzz specs of the numeric half of @rewind/testing: closeness (`allClose`,
 * `closeWithPaths`, `assertAllClose`, `toBeAllClose`) against the NumPy rule written out,
 * `checkGrads` (passes right derivatives, fails wrong ones with an Error naming the mode), the
 * arbitraries (drawn values respect every documented bound), `scanUnrolled` against `scan`, and
 * the scan laws (hold for `scan`, fail for a broken scan) — then every wrong-typed argument.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as X from "@rewind/testing";
import { expectNear, f64, NOT_OPTIONS, prop, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { callTesting, expectViolation, refuseEach } from "./errors.js";

/** Misspelt-key cases of one options argument of @rewind/testing (whose errors are RewindErrors). */
const typos = (
  name: string,
  known: readonly string[],
  base: Record<string, unknown>,
  call: (o: Record<string, unknown>) => unknown,
): number => misspeltCases({ names: [name], error: T.RewindError, known, base, call });

/** The keys of each law's options, as the documentation states them. */
const LAW_KEYS: Readonly<Record<string, readonly string[]>> = {
  bptt: ["rtol", "atol", "scan"],
  reverse: ["rtol", "atol", "scan"],
  remat: ["rtol", "atol", "scan", "sizes"],
  checkpoint: ["rtol", "atol", "scan", "sizes"],
  unroll: ["rtol", "atol", "scan", "sizes"],
  truncation: ["rtol", "atol", "scan", "k"],
  jit: ["rtol", "atol", "jit", "key"],
  stopGradient: ["rtol", "atol", "stopGradient", "key"],
  adjoint: ["rtol", "atol", "key", "jvp", "vjp"],
  vmap: ["rtol", "atol", "inAxes", "outAxes", "axisSize", "grad", "key", "vmap", "jit"],
};

/** Tolerance options that must be refused (a NaN or string tolerance makes every comparison meaningless). */
const BAD_CLOSE_OPTIONS: readonly unknown[] = [
  ...NOT_OPTIONS,
  { rtol: NaN },
  { rtol: -1 },
  { atol: "1e-8" },
  { atol: Infinity },
  { equalNan: "yes" },
];

const pairs = fc.record({
  a: fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(NaN, Infinity)), {
    minLength: 1,
    maxLength: 4,
  }),
  noise: fc.array(fc.constantFrom(0, 1e-9, 1e-6, 1e-3, 1), { minLength: 4, maxLength: 4 }),
  rtol: fc.constantFrom(0, 1e-5, 1e-2),
  atol: fc.constantFrom(0, 1e-8, 1e-2),
  equalNan: fc.boolean(),
});

/** NumPy's allclose, element by element. */
const npClose = (a: readonly number[], b: readonly number[], rtol: number, atol: number, equalNan: boolean): boolean =>
  a.every((x, i) => {
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) return equalNan && Number.isNaN(x) && Number.isNaN(y);
    return x === y || Math.abs(x - y) <= atol + rtol * Math.abs(y);
  });

const closeSpec =
  (name: string, run: (a: T.Tensor, b: T.Tensor, o: X.CloseOptions) => boolean, bad: (o: unknown) => unknown): Spec =>
  () =>
    prop(
      pairs,
      ({ a, noise, rtol, atol, equalNan }) => {
        const b = a.map((x, i) => x + noise[i]!);
        expect(run(f64(a, [a.length]), f64(b, [b.length]), { rtol, atol, equalNan }), `${name}(${a}, ${b})`).toBe(
          npClose(a, b, rtol, atol, equalNan),
        );
      },
      30,
    ) +
    refuseEach([name], BAD_CLOSE_OPTIONS, bad) +
    typos(name, ["rtol", "atol", "equalNan"], { rtol: 1e-5 }, bad);

const one = f64([1], [1]);
export const allCloseSpec = closeSpec(
  "allClose",
  (a, b, o) => X.allClose(a, b, o).pass,
  (o) => X.allClose(one, one, o as never),
);
export const closeWithPathsSpec = closeSpec(
  "closeWithPaths",
  (a, b, o) => X.closeWithPaths({ h: [a] }, { h: [b] }, o).pass,
  (o) => X.closeWithPaths(one, one, o as never),
);
export const toBeAllCloseSpec = closeSpec(
  "toBeAllClose",
  (a, b, o) => X.toBeAllClose.call(undefined, a, b, o).pass,
  (o) => X.toBeAllClose.call(undefined, one, one, o as never),
);
export const assertAllCloseSpec = closeSpec(
  "assertAllClose",
  (a, b, o) => callTesting(["what"], () => X.assertAllClose("what", a, b, o)).ok,
  (o) => X.assertAllClose("what", one, one, o as never),
);

export const checkGradsSpec: Spec = () => {
  let n = prop(
    fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      seed: fc.nat({ max: 1000 }),
      order: fc.constantFrom(1 as const, 2 as const),
    }),
    ({ n, seed, order }) => {
      const x = T.random.normal(T.random.key(seed), [n], "float64");
      X.checkGrads((v: A.Value) => A.sum(A.tanh(A.mul(v, v))), [x], { order, seed });
      // A VJP off by a factor of two is caught, with an Error naming checkGrads and the mode.
      const wrong = A.customVjp(
        (v: A.Value) => A.exp(v),
        (v: A.Value) => [A.exp(v), A.exp(v)] as const,
        (y: A.Value, g: A.Value) => [A.mul(A.mul(g, y), 2)],
      );
      expectViolation(/^checkGrads \(rev/, () => X.checkGrads(wrong, [x], { modes: ["rev"], seed }));
    },
    6,
  );
  const f = (v: A.Value) => A.sum(A.tanh(v));
  const x = f64([0.3, -0.2], [2]);
  n += refuseEach(["checkGrads"], [null, 5, "f"], (g) => X.checkGrads(g as never, [x]));
  n += refuseEach(
    ["checkGrads"],
    [null, 5, x, [T.zeros([2], "int32")], [T.astype(x, "float32")], [[0.3]], []],
    (args) => X.checkGrads(f, args as never),
  );
  n += refuseEach(
    ["checkGrads"],
    [
      ...NOT_OPTIONS,
      { order: 3 },
      { modes: [] },
      { modes: ["rev", "back"] },
      { eps: 0 },
      { eps: -1 },
      { rtol: NaN },
      { atol: -1 },
      { seed: 1.5 },
    ],
    (o) => X.checkGrads(f, [x], o as never),
  );
  n += refuseEach(["checkGrads"], [() => 5, () => T.zeros([2], "int32"), () => null], (g) =>
    X.checkGrads(g as never, [x]),
  );
  n += typos("checkGrads", ["order", "modes", "eps", "rtol", "atol", "seed"], { order: 1 }, (o) =>
    X.checkGrads(f, [x], o),
  );
  return n;
};

/** Bounds-respecting properties of the arbitraries, and their refusals. */
export const arbShapeSpec: Spec = () =>
  prop(
    fc.record({
      minRank: fc.integer({ min: 0, max: 3 }),
      extraRank: fc.integer({ min: 0, max: 2 }),
      minDim: fc.integer({ min: 0, max: 3 }),
      extraDim: fc.integer({ min: 0, max: 3 }),
      seed: fc.nat(),
    }),
    (o) => {
      const opts = {
        minRank: o.minRank,
        maxRank: o.minRank + o.extraRank,
        minDim: o.minDim,
        maxDim: o.minDim + o.extraDim,
      };
      for (const shape of fc.sample(X.arbShape(opts), { numRuns: 5, seed: o.seed })) {
        expect(shape.length >= opts.minRank && shape.length <= opts.maxRank).toBe(true);
        expect(shape.every((d) => Number.isInteger(d) && d >= opts.minDim && d <= opts.maxDim)).toBe(true);
      }
    },
    10,
  ) +
  refuseEach(
    ["arbShape"],
    [
      ...NOT_OPTIONS,
      { minRank: 3, maxRank: 1 },
      { minDim: -1 },
      { maxDim: 1.5 },
      { maxRank: NaN },
      { minDim: 4, maxDim: 2 },
      { maxRank: 1e6 },
    ],
    (o) => X.arbShape(o as never),
  ) +
  typos("arbShape", ["minRank", "maxRank", "minDim", "maxDim"], { maxRank: 2 }, (o) => X.arbShape(o));

export const arbBroadcastShapesSpec: Spec = () =>
  prop(
    fc.tuple(fc.integer({ min: 0, max: 4 }), fc.nat()),
    ([n, seed]) => {
      for (const shapes of fc.sample(X.arbBroadcastShapes(n), { numRuns: 3, seed })) {
        expect(shapes.length).toBe(n);
        // They broadcast together: T.broadcastShapes accepts them.
        if (n > 0) expect(() => T.broadcastShapes("test", ...shapes)).not.toThrow();
      }
    },
    8,
  ) + refuseEach(["arbBroadcastShapes"], [-1, 1.5, NaN, "2", 1e6], (n) => X.arbBroadcastShapes(n as number));

export const arbTensorSpec: Spec = () =>
  prop(
    fc.record({
      dtype: fc.constantFrom("float32" as const, "float64" as const, "int32" as const, "bool" as const),
      lo: fc.integer({ min: -5, max: 0 }),
      width: fc.integer({ min: 1, max: 5 }),
      uniform: fc.boolean(),
      seed: fc.nat(),
    }),
    (o) => {
      const [min, max] = [o.lo, o.lo + o.width];
      for (const t of fc.sample(
        X.arbTensor({ dtype: o.dtype, min, max, uniform: o.uniform, shape: X.arbShape({ maxRank: 2 }) }),
        { numRuns: 4, seed: o.seed },
      )) {
        expect(t.dtype).toBe(o.dtype);
        const lo = o.dtype === "bool" ? 0 : min;
        const hi = o.dtype === "bool" ? 1 : max;
        expect(Array.from(t.data as ArrayLike<number>).every((v) => Number.isFinite(v) && v >= lo && v <= hi)).toBe(
          true,
        );
      }
    },
    12,
  ) +
  refuseEach(
    ["arbTensor"],
    [
      ...NOT_OPTIONS,
      { min: 2, max: 1 },
      { min: NaN },
      { max: Infinity },
      { min: -Infinity, uniform: true },
      { dtype: "int8" },
      { dtype: "int32", min: 0.2, max: 0.8 },
      { shape: 5 },
    ],
    (o) => X.arbTensor(o as never),
  ) +
  typos("arbTensor", ["shape", "dtype", "min", "max", "uniform"], { dtype: "float64" }, (o) => X.arbTensor(o)) +
  // A shape arbitrary is only seen when sampled: bad shapes are refused then (and huge ones never allocated).
  refuseEach(["arbTensor"], [[-1], [1.5], [1e5, 1e5], [2 ** 31, 2 ** 31]], (shape) =>
    fc.sample(X.arbTensor({ shape: shape }), 1),
  );

export const arbPyTreeSpec: Spec = () =>
  prop(
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat()),
    ([depth, seed]) => {
      const depthOf = (t: unknown): number =>
        T.isTensor(t) ? 0 : 1 + Math.max(...Object.values(t as object).map(depthOf));
      for (const tree of fc.sample(X.arbPyTree(X.arbTensor({ shape: [1] }), { maxDepth: depth }), {
        numRuns: 4,
        seed,
      })) {
        expect(depthOf(tree)).toBeLessThanOrEqual(depth);
        expect(A.treeLeaves(tree).length).toBeGreaterThan(0);
      }
    },
    8,
  ) +
  refuseEach(["arbPyTree"], [null, 5, X.arbShape], (leaf) => X.arbPyTree(leaf as never)) +
  refuseEach(["arbPyTree"], [...NOT_OPTIONS, { maxDepth: -1 }, { maxDepth: 1.5 }, { maxDepth: 1e6 }], (o) =>
    X.arbPyTree(X.arbTensor(), o as never),
  ) +
  typos("arbPyTree", ["maxDepth"], { maxDepth: 1 }, (o) => X.arbPyTree(X.arbTensor(), o));

export const arbKeySpec: Spec = () =>
  prop(
    fc.nat(),
    (seed) => {
      for (const k of fc.sample(X.arbKey(), { numRuns: 3, seed })) expect(T.random.isKey(k)).toBe(true);
    },
    5,
  );

export const arbRaggedBatchSpec: Spec = () =>
  prop(
    fc.record({
      maxBatch: fc.integer({ min: 1, max: 3 }),
      minTime: fc.integer({ min: 0, max: 3 }),
      extra: fc.integer({ min: 0, max: 3 }),
      features: fc.integer({ min: 1, max: 3 }),
      seed: fc.nat(),
    }),
    (o) => {
      for (const { data, lengths } of fc.sample(
        X.arbRaggedBatch({
          maxBatch: o.maxBatch,
          minTime: o.minTime,
          maxTime: o.minTime + o.extra,
          features: o.features,
        }),
        { numRuns: 3, seed: o.seed },
      )) {
        const [b, t, f] = data.shape as [number, number, number];
        expect(b >= 1 && b <= o.maxBatch && t >= o.minTime && t <= o.minTime + o.extra && f === o.features).toBe(true);
        expect([lengths.dtype, ...lengths.shape]).toEqual(["int32", b]);
        expect(Array.from(lengths.data as ArrayLike<number>).every((l) => l >= 0 && l <= t)).toBe(true);
      }
    },
    8,
  ) +
  refuseEach(
    ["arbRaggedBatch"],
    [
      ...NOT_OPTIONS,
      { maxBatch: 0 },
      { minTime: 5, maxTime: 2 },
      { features: 0 },
      { features: -1 },
      { features: { min: 3, max: 1 } },
      { maxTime: 1.5 },
    ],
    (o) => X.arbRaggedBatch(o as never),
  ) +
  typos("arbRaggedBatch", ["maxBatch", "minTime", "maxTime", "features", "min", "max"], { maxBatch: 2 }, (o) =>
    X.arbRaggedBatch(o),
  ) +
  // The feature bounds are an options object of their own.
  typos("arbRaggedBatch", ["min", "max"], { min: 1, max: 2 }, (f) => X.arbRaggedBatch({ features: f as never }));

export const arbScanProblemSpec: Spec = () =>
  prop(
    fc.tuple(fc.constantFrom(...X.scanFamilies), fc.integer({ min: 0, max: 3 }), fc.nat()),
    ([family, maxLength, seed]) => {
      for (const p of fc.sample(X.arbScanProblem({ families: [family], maxLength }), { numRuns: 2, seed })) {
        expect([p.family, p.length <= maxLength]).toEqual([family, true]);
        expect(A.treeLeaves(p.params).every((l) => l.dtype === "float64")).toBe(true);
      }
    },
    8,
  ) +
  refuseEach(
    ["arbScanProblem"],
    [
      ...NOT_OPTIONS,
      { families: [] },
      { families: ["gru"] },
      { maxLength: -1 },
      { minLength: 3, maxLength: 1 },
      { maxBatch: 0 },
      { reverse: "yes" },
    ],
    (o) => X.arbScanProblem(o as never),
  ) +
  typos(
    "arbScanProblem",
    ["minLength", "maxLength", "families", "reverse", "maxBatch", "maxHidden", "maxInput"],
    { maxLength: 2 },
    (o) => X.arbScanProblem(o),
  );

const smallProblems = X.arbScanProblem({ maxLength: 3, maxBatch: 1, maxHidden: 2, maxInput: 2 });

export const scanProblemSpec: Spec = () =>
  prop(
    smallProblems,
    (p) => {
      // Rebuilt from its parts, a problem runs the same scan.
      const q = X.scanProblem(p.family, {
        params: p.params,
        init: p.init,
        xs: p.xs,
        length: p.length,
        reverse: p.reverse,
      });
      expect(
        X.allClose(q.loss(q.params, q.init, q.xs), p.loss(p.params, p.init, p.xs), { rtol: 0, atol: 0 }).pass,
      ).toBe(true);
    },
    6,
  ) +
  refuseEach(["scanProblem"], ["gru", null, 5], (family) =>
    X.scanProblem(family as never, { params: {}, init: null, xs: null, length: 1, reverse: false }),
  ) +
  refuseEach(["scanProblem"], [null, 5, { params: {}, init: null, xs: null, length: -1, reverse: false }], (parts) =>
    X.scanProblem("rnn", parts as never),
  ) +
  // The parts are named inputs read by name: { revers: true } must not build a forward problem.
  typos(
    "scanProblem",
    ["params", "init", "xs", "length", "reverse"],
    { params: {}, init: null, xs: null, length: 1, reverse: false },
    (parts) => X.scanProblem("rnn", parts as never),
  );

/** The one set of default law tolerances: its values, and that no caller can loosen it for everyone. */
export const lawTolerancesSpec: Spec = () => {
  expect(X.LAW_TOLERANCES).toEqual({ rtol: 1e-10, atol: 1e-12 });
  expect(Object.isFrozen(X.LAW_TOLERANCES)).toBe(true);
  expect(() => {
    (X.LAW_TOLERANCES as { rtol: number }).rtol = 1;
  }).toThrow(TypeError);
  return 3;
};

export const scanFamiliesSpec: Spec = () => {
  expect(X.scanFamilies).toEqual(["rnn", "lstm", "pytreeYs", "lengthOnly"]);
  for (const family of X.scanFamilies)
    expect(fc.sample(X.arbScanProblem({ families: [family] }), 1)[0]!.family).toBe(family);
  return 1 + X.scanFamilies.length;
};

export const readoutSpec: Spec = () =>
  prop(
    fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 4 }),
    (xs) => {
      // Σᵢ sum(sin((1 + i/4)·leafᵢ)) over float leaves; int leaves are skipped.
      const tree = { a: f64(xs, [xs.length]), b: [f64(xs.slice(0, 1), [1])], ids: T.zeros([2], "int32") };
      const want = xs.reduce((s, x) => s + Math.sin(x), 0) + Math.sin(1.25 * xs[0]!);
      expectNear("readout", X.readout(tree), [want], [], 1e-12, 1e-12);
    },
    10,
  );

export const scanUnrolledSpec: Spec = () =>
  prop(
    smallProblems,
    (p) => {
      const [c1, y1] = p.run(p.params, p.init, p.xs, X.scanUnrolled);
      const [c2, y2] = p.run(p.params, p.init, p.xs, A.scan);
      expect(X.closeWithPaths([c1, y1], [c2, y2], { rtol: 1e-12, atol: 1e-14 }).pass).toBe(true);
    },
    10,
  ) +
  refuseEach(["scanUnrolled"], [null, 5], (f) => X.scanUnrolled(f as never, T.scalar(0), f64([1], [1]))) +
  refuseEach(
    ["scanUnrolled"],
    [...NOT_OPTIONS, { length: -1 }, { length: 1.5 }, { length: NaN }, { length: 2 }, { reverse: "yes" }],
    (o) => X.scanUnrolled((c: A.Value, x: A.Value) => [c, x], T.scalar(0), f64([1, 2, 3], [3]), o as never),
  ) +
  refuseEach(["scanUnrolled"], [() => 5, () => [1], () => null], (f) =>
    X.scanUnrolled(f as never, T.scalar(0), f64([1], [1])),
  ) +
  typos("scanUnrolled", ["length", "reverse"], { reverse: true }, (o) =>
    X.scanUnrolled((c: A.Value, x: A.Value) => [c, x], T.scalar(0), f64([1, 2, 3], [3]), o),
  );

/** A scan that ignores `reverse`: every law that looks at direction must catch it. */
const brokenScan: X.ScanImpl = (f, init, xs, o = {}) => A.scan(f, init, xs, { ...o, reverse: false });

export const lawsSpec: Spec = () => {
  let n = prop(
    smallProblems,
    (p) => {
      X.laws.bptt(p);
      X.laws.reverse(p);
      X.laws.truncation(p, { k: 1 });
      X.laws.adjoint(X.scanCase(p));
    },
    4,
  );
  const p = fc.sample(X.arbScanProblem({ minLength: 2, maxLength: 3, reverse: true, families: ["rnn"] }), {
    numRuns: 1,
    seed: 3,
  })[0]!;
  expectViolation(/^BPTT law violated for /, () => X.laws.bptt(p, { scan: brokenScan }));
  expectViolation(/^reverse law violated for /, () => X.laws.reverse(p, { scan: brokenScan }));
  n += 2;
  for (const law of ["bptt", "reverse", "remat", "checkpoint", "unroll", "truncation"] as const) {
    n += refuseEach([`laws.${law}`], [null, 5, {}, { lossWith: 1 }], (q) => X.laws[law](q as never));
    n += refuseEach([`laws.${law}`], NOT_OPTIONS, (o) => X.laws[law](p, o as never));
  }
  for (const law of ["jit", "stopGradient", "adjoint", "vmap"] as const)
    n += refuseEach([`laws.${law}`], [null, 5, { f: 5, args: [] }, { f: () => 1, args: null }], (c) =>
      X.laws[law](c as never),
    );
  n += refuseEach(["laws.truncation"], [0, -1, 1.5], (k) => X.laws.truncation(p, { k }));
  n += refuseEach(["laws.unroll", "scan"], [[0], [-1]], (sizes) => X.laws.unroll(p, { sizes }));
  const c = X.scanCase(p);
  // Centring on axis 0 is per-example under vmap, but mixes the examples when run on the batch.
  const vmapCase = { f: (x: A.Value) => A.sub(x, A.mean(x, { axis: 0 })), args: [f64([0.5, -1, 2, 0.25], [2, 2])] };
  X.laws.vmap(vmapCase);
  expectViolation(/^vmap law violated for /, () => X.laws.vmap(vmapCase, { vmap: (f) => f }));
  n += 2;
  for (const [law, known] of Object.entries(LAW_KEYS)) {
    // The vmap law needs arguments batched on axis 0: the scan case's are not, so it gets one of its own.
    const call =
      law === "vmap"
        ? (o: object) => X.laws.vmap(vmapCase, o)
        : ["jit", "stopGradient", "adjoint"].includes(law)
          ? (o: object) => X.laws[law as "jit"](c, o)
          : (o: object) => X.laws[law as "bptt"](p, o);
    n += typos(`laws.${law}`, known, { rtol: 1e-9 }, call);
  }
  return n;
};

export const lawPropertiesSpec: Spec = () => {
  const arb = X.arbScanProblem({ maxLength: 2, maxBatch: 1, maxHidden: 1, maxInput: 1, families: ["rnn"] });
  const names = Object.keys(X.lawProperties) as (keyof typeof X.lawProperties)[];
  for (const name of names) {
    const property =
      name === "vmap"
        ? X.lawProperties.vmap(X.arbVmapCase({ maxBatch: 2 }))
        : name === "jit" || name === "stopGradient" || name === "adjoint"
          ? X.lawProperties[name](arb.map((p) => X.scanCase(p)))
          : X.lawProperties[name](arb);
    fc.assert(property as fc.IProperty<unknown>, { numRuns: 1 });
  }
  let n =
    names.length +
    refuseEach(
      names.map((k) => `lawProperties.${k}`),
      [null, 5, {}],
      (a) => X.lawProperties.bptt(a as never),
    );
  // A property's options are checked when it is built (truncation draws its own k, so it takes no k).
  for (const name of names) {
    const known = LAW_KEYS[name === "truncation" ? "bptt" : name]!;
    n += typos(`lawProperties.${name}`, known, { rtol: 1e-9 }, (o) =>
      (X.lawProperties[name] as (a?: unknown, o?: unknown) => unknown)(undefined, o),
    );
  }
  return n;
};

export const scanCaseSpec: Spec = () =>
  prop(
    smallProblems,
    (p) => {
      const c = X.scanCase(p, "loss");
      expect(X.allClose((c.f as (...a: unknown[]) => A.Value)(...c.args), p.loss(p.params, p.init, p.xs)).pass).toBe(
        true,
      );
    },
    4,
  ) + refuseEach(["scanCase"], [null, 5, {}], (q) => X.scanCase(q as never));
