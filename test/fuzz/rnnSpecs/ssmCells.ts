/**
 * @file Fuzz specs of the state-space cells `lru` and `selectiveSsm`: `init` gives the documented
 * parameters for any sizes and dtype (and refuses bad sizes, options and the PyTorch-only
 * schemes); `step` and `rnn` in both modes against the float64 references of
 * test/ssmReference.ts; then wrong inputs, carries, parameters and lengths for `step` and
 * `sequence`, and bad batches for `initialCarry`.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import { rnn, type AnyCell } from "@rewind/rnn";
import {
  BAD_COUNTS,
  BAD_SIZES,
  expectNear,
  normal,
  NOT_TENSORS,
  prop,
  rejectEach,
  rejectPool,
  type Spec,
} from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { INIT_KEYS, SIZE_KEYS } from "./keys.js";
import { BAD_LENGTHS } from "./sequence.js";
import { lruRefStep, refSequence, ssmRefStep, type RefCellStep } from "../../ssmReference.js";

type Shapes = Record<string, readonly number[]>;
type Params = Record<string, T.Tensor>;

/** What each cell's init returns for inputSize i, hiddenSize h; its reference; its carry as rows. */
interface SsmCellFacts {
  readonly shapes: (i: number, h: number) => Shapes;
  readonly ref: RefCellStep;
  /** Sample b's flat state (the reference's layout) from a carry. */
  readonly state: (carry: unknown, b: number) => number[];
  /** A carry of `batch` rows from flat states. */
  readonly carry: (states: readonly number[][], n: number, dtype: T.DType) => unknown;
}

const rowOf = (x: unknown, b: number): number[] => {
  const t = x as T.Tensor;
  const w = t.shape[1]!;
  return Array.from(t.data.subarray(b * w, (b + 1) * w) as ArrayLike<number>);
};
/** Sample b's steps of a batch-major `[B, T, F]` tensor, as rows of numbers. */
const stepsOf = (xs: T.Tensor, b: number): number[][] => {
  const [, time, f] = xs.shape as [number, number, number];
  return Array.from({ length: time }, (_, t) =>
    Array.from(xs.data.subarray((b * time + t) * f, (b * time + t + 1) * f) as ArrayLike<number>),
  );
};
const matrix = (rows: readonly number[][], width: number, dtype: T.DType): T.Tensor =>
  T.fromDataOrThrow(rows.flat(), [rows.length, width], dtype);

const FACTS: Readonly<Record<string, SsmCellFacts>> = {
  lru: {
    shapes: (i, h) => ({
      nu_log: [h],
      theta_log: [h],
      gamma_log: [h],
      B_re: [h, i],
      B_im: [h, i],
      C_re: [i, h],
      C_im: [i, h],
      D: [i],
    }),
    ref: lruRefStep,
    state: (c, b) => [...rowOf((c as { re: T.Tensor }).re, b), ...rowOf((c as { im: T.Tensor }).im, b)],
    carry: (s, n, dtype) => ({
      re: matrix(
        s.map((r) => r.slice(0, n)),
        n,
        dtype,
      ),
      im: matrix(
        s.map((r) => r.slice(n)),
        n,
        dtype,
      ),
    }),
  },
  selectiveSsm: {
    shapes: (i, h) => ({ weight_dt: [i, i], bias_dt: [i], weight_B: [h, i], weight_C: [h, i], A_log: [i, h], D: [i] }),
    ref: ssmRefStep,
    state: rowOf,
    carry: (s, n, dtype) => matrix([...s], n, dtype),
  },
};

const k0 = T.random.key(0);
const sizes = fc.record({
  i: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 4 }),
  seed: fc.nat({ max: 10_000 }),
});

/** The fuzz spec of `lru` or `selectiveSsm`. */
export const ssmCellSpec =
  (cell: AnyCell): Spec =>
  () => {
    const name = cell.name;
    const facts = FACTS[name]!;
    let n = 0;

    n += prop(
      fc.record({ s: sizes, dtype: fc.constantFrom("float32" as const, "float64" as const), dflt: fc.boolean() }),
      ({ s, dtype, dflt }) => {
        const p = cell.init(
          T.random.key(s.seed),
          { inputSize: s.i, hiddenSize: s.h },
          dflt ? { dtype, scheme: "default" } : { dtype },
        ) as Params;
        const want = facts.shapes(s.i, s.h);
        expect(Object.keys(p).sort()).toEqual(Object.keys(want).sort());
        for (const [k, shape] of Object.entries(want)) {
          expect(p[k]!.shape, k).toEqual(shape);
          expect(p[k]!.dtype, k).toBe(dtype);
          expect(
            p[k]!.data.every((v) => Number.isFinite(v)),
            k,
          ).toBe(true);
        }
        expect(cell.outputSize(p)).toBe(s.i); // the output has the input's width (H, D)
        expect(cell.inputSize?.(p)).toBe(s.i);
      },
      10,
    );
    for (const field of ["inputSize", "hiddenSize"])
      n += rejectPool([`${name}.init`], BAD_SIZES, (bad) =>
        cell.init(k0, { inputSize: 2, hiddenSize: 3, [field]: bad }),
      );
    n += rejectPool([`${name}.init`], [null, 5, "x", [2, 3]], (s) => cell.init(k0, s as never));
    n += rejectPool(
      [`${name}.init`],
      [null, 5, { dtype: "int32" }, { scheme: "xavier" }, { scheme: "glorot" }, { scheme: "orthogonal" }],
      (o) => cell.init(k0, { inputSize: 2, hiddenSize: 3 }, o as never),
    );
    n += misspeltCases({
      names: [`${name}.init`],
      error: T.TensorException,
      known: SIZE_KEYS,
      base: { inputSize: 2, hiddenSize: 3 },
      call: (s) => cell.init(k0, s as never),
    });
    n += misspeltCases({
      names: [`${name}.init`],
      error: T.TensorException,
      known: INIT_KEYS,
      base: { dtype: "float64", scheme: "default" },
      call: (o) => cell.init(k0, { inputSize: 2, hiddenSize: 3 }, o),
    });

    // step, and rnn in both modes, against the reference (batch and time from 0).
    n += prop(
      fc.record({
        s: sizes,
        batch: fc.integer({ min: 0, max: 3 }),
        time: fc.integer({ min: 0, max: 5 }),
        reverse: fc.boolean(),
        cut: fc.nat(),
        mode: fc.constantFrom("sequential" as const, "parallel" as const),
      }),
      ({ s, batch, time, reverse, cut, mode }) => {
        const p = cell.init(T.random.key(s.seed), { inputSize: s.i, hiddenSize: s.h }, { dtype: "float64" }) as Params;
        const width = A.treeLeaves(cell.initialCarry(1, p)).reduce((w, l) => w + l.shape[1]!, 0);
        const states = Array.from({ length: batch }, (_, b) => rowOf(normal(s.seed + 2, [batch, width], 0.5), b));
        const carry = facts.carry(states, width / A.treeLeaves(cell.initialCarry(1, p)).length, "float64");
        const x = normal(s.seed + 1, [batch, s.i]);
        const [next, y] = cell.step(p)(carry, x);
        const ref = states.map((st, b) => facts.ref(p, st, rowOf(x, b)));
        expectNear(
          `${name}.step y`,
          y,
          ref.flatMap((r) => r.y),
          [batch, s.i],
        );
        expectNear(
          `${name}.step carry`,
          matrix(
            ref.map((_, b) => facts.state(next, b)),
            width,
            "float64",
          ),
          ref.flatMap((r) => r.state),
          [batch, width],
        );
        const xs = normal(s.seed + 3, [batch, time, s.i]);
        const lengths = Array.from({ length: batch }, (_, b) => (cut + b) % (time + 1));
        const r = rnn(cell, p, xs, { mode, reverse, lengths, initialCarry: carry });
        const seqs = states.map((st, b) => refSequence(facts.ref, p, st, stepsOf(xs, b), s.i, lengths[b]!, reverse));
        expectNear(
          `rnn(${name}) outputs`,
          r.outputs,
          seqs.flatMap((q) => q.outputs.flat()),
          [batch, time, s.i],
          1e-9,
          1e-11,
        );
        const finals = states.map((_, b) => facts.state(r.finalCarry, b));
        expectNear(
          `rnn(${name}) finalCarry`,
          matrix(finals, width, "float64"),
          seqs.flatMap((q) => q.final),
          [batch, width],
          1e-9,
          1e-11,
        );
      },
      15,
    );

    const p = cell.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" }) as Params;
    const carry = cell.initialCarry(2, p);
    const x = normal(1, [2, 2]);
    const xs = normal(2, [2, 3, 2]); // 3 steps: BAD_LENGTHS is for a batch of 2 × 3 steps
    const other = cell.init(k0, { inputSize: 2, hiddenSize: 4 }, { dtype: "float64" });
    const f32 = cell.init(k0, { inputSize: 2, hiddenSize: 3 });
    n += rejectEach([`${name}.step`], {
      "x with 5 features": () => cell.step(p)(carry, normal(1, [2, 5])),
      "x of rank 3": () => cell.step(p)(carry, normal(1, [2, 1, 2])),
      "x with another batch than the carry": () => cell.step(p)(carry, normal(1, [4, 2])),
      "float32 x for float64 parameters": () => cell.step(p)(carry, T.astype(x, "float32")),
      "int32 x": () => cell.step(p)(carry, T.zeros([2, 2], "int32")),
      "a carry of another state size": () => cell.step(p)(cell.initialCarry(2, other), x),
      "a float32 carry": () => cell.step(p)(cell.initialCarry(2, f32), x),
    });
    n += rejectPool([`${name}.step`], NOT_TENSORS, (bad) => cell.step(p)(carry, bad as T.Tensor));
    const seq = cell.sequence!(p);
    n += rejectEach([`${name}.sequence`], {
      "xs of rank 2": () => seq(carry, x),
      "xs with 5 features": () => seq(carry, normal(1, [2, 3, 5])),
      "float32 xs": () => seq(carry, T.astype(xs, "float32")),
      "a carry of another batch": () => seq(cell.initialCarry(3, p), xs),
      "a carry of another state size": () => seq(cell.initialCarry(2, other), xs),
      "a carry that is null": () => seq(null, xs),
    });
    n += rejectPool([`${name}.sequence`], NOT_TENSORS, (bad) => seq(carry, bad as T.Tensor));
    n += rejectPool([`${name}.sequence`], BAD_LENGTHS, (l) => seq(carry, xs, l as T.Tensor));
    const [first, second] = Object.keys(p).sort() as [string, string];
    const bad: Record<string, unknown> = {
      null: null,
      "an empty object": {},
      [`no ${first}`]: { ...p, [first]: undefined },
      [`${second} as an array`]: { ...p, [second]: [1, 2, 3] },
      [`${first} of another shape`]: { ...p, [first]: normal(0, [1, 1, 1]) },
      [`${first} in float32 among float64`]: { ...p, [first]: T.astype(p[first]!, "float32") },
    };
    for (const [label, q] of Object.entries(bad)) {
      n += rejectEach([`${name}.step`], { [`step(${label})`]: () => cell.step(q)(carry, x) });
      n += rejectEach([`${name}.sequence`], { [`sequence(${label})`]: () => cell.sequence!(q)(carry, xs) });
      n += rejectEach([`${name}.initialCarry`], { [`initialCarry(2, ${label})`]: () => cell.initialCarry(2, q) });
      n += rejectEach([`${name}.outputSize`], { [`outputSize(${label})`]: () => cell.outputSize(q) });
    }

    n += prop(
      fc.integer({ min: 0, max: 5 }),
      (batch) => {
        for (const leaf of A.treeLeaves(cell.initialCarry(batch, p))) {
          const w = leaf.shape[1]!;
          expectNear(`${name}.initialCarry`, leaf, new Array<number>(batch * w).fill(0), [batch, w], 0, 0);
        }
      },
      4,
    );
    n += rejectPool([`${name}.initialCarry`], BAD_COUNTS, (b) => cell.initialCarry(b as number, p));
    return n;
  };

/** `lruCell(ring)`: Λ at init lies on the ring and in the phase range; bad rings are refused. */
export const lruCellSpec: Spec = () => {
  let n = prop(
    fc.record({
      a: fc.double({ min: 0, max: 1, noNaN: true }),
      b: fc.double({ min: 0, max: 1, noNaN: true }),
      maxPhase: fc.double({ min: 1e-3, max: 10, noNaN: true }),
      seed: fc.nat({ max: 10_000 }),
    }),
    ({ a, b, maxPhase, seed }) => {
      const [rMin, rMax] = [Math.min(a, b), Math.max(a, b)];
      const p = R.lruCell({ rMin, rMax, maxPhase }).init(
        T.random.key(seed),
        { inputSize: 2, hiddenSize: 6 },
        { dtype: "float64" },
      );
      // |λ|² stays 1e-8 inside (0, 1), where the paper's ν, θ or γ_log would be ±∞.
      const edge = (r: number): number => Math.sqrt(Math.min(Math.max(r * r, 1e-8), 1 - 1e-8));
      const [nu, theta, gammaLog] = [p.nu_log, p.theta_log, p.gamma_log] as T.Tensor[];
      nu!.data.forEach((v, j) => {
        const mod = Math.exp(-Math.exp(v));
        expect(mod).toBeGreaterThanOrEqual(edge(rMin) - 1e-9);
        expect(mod).toBeLessThanOrEqual(edge(rMax) + 1e-9);
        expect(Math.exp(theta!.data[j]!)).toBeLessThanOrEqual(maxPhase * (1 + 1e-12));
        expect(Number.isFinite(gammaLog!.data[j]!)).toBe(true);
      });
    },
    15,
  );
  n += rejectPool(
    ["lruCell"],
    [
      null,
      5,
      { rMin: -0.1 },
      { rMin: 0.6, rMax: 0.5 },
      { rMax: 1.01 },
      { maxPhase: 0 },
      { maxPhase: -1 },
      { rMin: NaN },
      { rMax: Infinity },
      { maxPhase: "1" },
    ],
    (ring) => R.lruCell(ring as never),
  );
  n += misspeltCases({
    names: ["lruCell"],
    error: T.TensorException,
    known: ["rMin", "rMax", "maxPhase"],
    base: { rMin: 0.5, rMax: 0.9 },
    call: (o) => R.lruCell(o),
  });
  return n;
};
