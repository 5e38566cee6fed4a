/**
 * @file Fuzz specs of the layer shapes built on `rnn`: `manyToOne`, `manyToMany`, `repeatInput`,
 * `feedOnce` and `bidirectional`, each against the float64 per-sample reference, then with bad
 * step counts, vectors, readouts, merges, parameters and options.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import {
  BAD_COUNTS,
  expectNear,
  normal,
  NOT_FLAGS,
  NOT_OPTIONS,
  NOT_TENSORS,
  prop,
  rejectEach,
  rejectPool,
  type Spec,
} from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { RNN_CALL_KEYS, RNN_KEYS } from "./keys.js";
import { hasCellState, REFERENCE_STEPS, referenceSequence, rowOf, type State } from "./reference.js";
import { arbRunCase, BAD_LENGTHS, CELLS, expectFinal, referenceRun, runArgs } from "./sequence.js";

const k0 = T.random.key(0);
const gruP = R.gru.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
const xs23 = normal(1, [2, 3, 2]);

export const manyToOneSpec: Spec = () => {
  let n = prop(
    arbRunCase(),
    (c) => {
      const { xs, opts } = runArgs(c);
      const out = R.manyToOne(c.cell, c.params, xs, opts);
      const { finals } = referenceRun(c);
      const time = c.xs.shape[1]!;
      // The last step read is the state after it: zeros for a sample with no valid step.
      const want = finals.flatMap((s, b) => ((c.lengths?.[b] ?? time) > 0 ? s.h : new Array<number>(c.hidden).fill(0)));
      expectNear(`manyToOne(${c.cell.name}) output`, out.output, want, [c.xs.shape[0]!, c.hidden]);
      expectFinal(`manyToOne(${c.cell.name}) finalCarry`, c.cell.name, out.finalCarry, finals, c.hidden);
      // { outputs: true } stacks them as well (rnn's), with the same output, picked from the stack.
      const both = R.manyToOne(c.cell, c.params, xs, { ...opts, outputs: true });
      expectNear(`manyToOne(${c.cell.name}, outputs: true) output`, both.output, want, [c.xs.shape[0]!, c.hidden]);
      const ref = referenceRun(c);
      expectNear(`manyToOne(${c.cell.name}, outputs: true) outputs`, both.outputs, ref.outputs, ref.shape);
    },
    25,
  );
  n += rejectPool(["manyToOne", "rnn"], BAD_LENGTHS, (lengths) =>
    R.manyToOne(R.gru, gruP, xs23, { lengths: lengths as number[] }),
  );
  n += rejectPool(["manyToOne", "rnn"], NOT_TENSORS, (xs) => R.manyToOne(R.gru, gruP, xs as T.Tensor));
  n += rejectPool(["manyToOne", "rnn"], NOT_OPTIONS, (o) => R.manyToOne(R.gru, gruP, xs23, o as never));
  n += rejectPool(["manyToOne"], NOT_FLAGS, (v) => R.manyToOne(R.gru, gruP, xs23, { outputs: v as boolean }));
  n += misspeltCases({
    names: ["manyToOne"],
    error: T.TensorException,
    known: RNN_CALL_KEYS,
    base: { lengths: [3, 1], reverse: true },
    call: (o) => R.manyToOne(R.gru, gruP, xs23, o),
  });
  return n;
};

export const manyToManySpec: Spec = () => {
  let n = prop(
    fc.tuple(arbRunCase(), fc.integer({ min: 1, max: 3 })),
    ([c, vocab]) => {
      const w = normal(vocab, [c.hidden, vocab]);
      const { xs, opts } = runArgs(c);
      const out = R.manyToMany(c.cell, c.params, xs, { ...opts, readout: (y) => A.matmul(y, w) });
      const ref = referenceRun(c);
      // Readout of each valid output; padded steps stay exactly zero after the readout.
      const rows = ref.outputs.length / c.hidden;
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const y = ref.outputs.slice(r * c.hidden, (r + 1) * c.hidden);
        for (let v = 0; v < vocab; v++) want.push(y.reduce((acc, yj, j) => acc + yj * w.data[j * vocab + v]!, 0));
      }
      expectNear(`manyToMany(${c.cell.name})`, out.outputs, want, [...ref.shape.slice(0, 2), vocab]);
    },
    20,
  );
  n += rejectEach(["manyToMany"], {
    "readout 5": () => R.manyToMany(R.gru, gruP, xs23, { readout: 5 as never }),
    "readout returning a number": () => R.manyToMany(R.gru, gruP, xs23, { readout: (() => 5) as never }),
  });
  n += rejectPool(["manyToMany"], NOT_OPTIONS, (o) => R.manyToMany(R.gru, gruP, xs23, o as never));
  n += misspeltCases({
    names: ["manyToMany"],
    error: T.TensorException,
    known: [...RNN_KEYS, "readout"],
    base: { readout: (y: A.Value) => y },
    call: (o) => R.manyToMany(R.gru, gruP, xs23, o),
  });
  return n;
};

/** The reference of running a cell over per-sample inputs `rows[b][t]` from zero carries. */
const referenceFromRows = (
  cell: R.AnyCell,
  p: Record<string, T.Tensor>,
  rows: number[][][],
  hidden: number,
): { outputs: number[]; finals: State[] } => {
  const zero = (): State =>
    hasCellState(cell.name)
      ? { h: new Array<number>(hidden).fill(0), c: new Array<number>(hidden).fill(0) }
      : { h: new Array<number>(hidden).fill(0) };
  const per = rows.map((r) => referenceSequence(REFERENCE_STEPS[cell.name]!, p, zero(), r, r.length, false));
  return { outputs: per.flatMap((r) => r.outputs.flat()), finals: per.map((r) => r.final) };
};

const arbVectorCase = (minSteps: number) =>
  fc.record({
    cell: fc.constantFrom(...CELLS),
    batch: fc.integer({ min: 0, max: 3 }),
    i: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 3 }),
    steps: fc.integer({ min: minSteps, max: 4 }),
    seed: fc.nat({ max: 10_000 }),
  });

export const repeatInputSpec: Spec = () => {
  let n = prop(
    arbVectorCase(0),
    ({ cell, batch, i, h, steps, seed }) => {
      const p = cell.init(T.random.key(seed), { inputSize: i, hiddenSize: h }, { dtype: "float64" }) as Record<
        string,
        T.Tensor
      >;
      const v = normal(seed + 1, [batch, i]);
      const out = R.repeatInput(cell, p, v, steps);
      const ref = referenceFromRows(
        cell,
        p,
        Array.from({ length: batch }, (_, b) => Array.from({ length: steps }, () => rowOf(v, b))),
        h,
      );
      expectNear(`repeatInput(${cell.name})`, out.outputs, ref.outputs, [batch, steps, h]);
    },
    15,
  );
  n += rejectPool(["repeatInput"], BAD_COUNTS, (steps) =>
    R.repeatInput(R.gru, gruP, normal(1, [2, 2]), steps as number),
  );
  n += rejectPool(["repeatInput"], [...NOT_TENSORS, normal(1, [2, 2, 1]), normal(1, [2])], (v) =>
    R.repeatInput(R.gru, gruP, v as T.Tensor, 2),
  );
  n += misspeltCases({
    names: ["repeatInput"],
    error: T.TensorException,
    known: RNN_KEYS,
    base: { timeMajor: true },
    call: (o) => R.repeatInput(R.gru, gruP, normal(1, [2, 2]), 2, o),
  });
  return n;
};

export const feedOnceSpec: Spec = () => {
  let n = prop(
    arbVectorCase(1),
    ({ cell, batch, i, h, steps, seed }) => {
      const p = cell.init(T.random.key(seed), { inputSize: i, hiddenSize: h }, { dtype: "float64" }) as Record<
        string,
        T.Tensor
      >;
      const v = normal(seed + 1, [batch, i]);
      const out = R.feedOnce(cell, p, v, steps);
      const rows = Array.from({ length: batch }, (_, b) =>
        Array.from({ length: steps }, (_, t) => (t === 0 ? rowOf(v, b) : new Array<number>(i).fill(0))),
      );
      expectNear(`feedOnce(${cell.name})`, out.outputs, referenceFromRows(cell, p, rows, h).outputs, [batch, steps, h]);
    },
    15,
  );
  n += rejectPool(["feedOnce"], [0, ...BAD_COUNTS], (steps) =>
    R.feedOnce(R.gru, gruP, normal(1, [2, 2]), steps as number),
  );
  n += rejectPool(["feedOnce"], [...NOT_TENSORS, normal(1, [2, 2, 1])], (v) =>
    R.feedOnce(R.gru, gruP, v as T.Tensor, 2),
  );
  n += misspeltCases({
    names: ["feedOnce"],
    error: T.TensorException,
    known: RNN_KEYS,
    base: { timeMajor: true },
    call: (o) => R.feedOnce(R.gru, gruP, normal(1, [2, 2]), 2, o),
  });
  return n;
};

export const bidirectionalSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbRunCase(), fc.constantFrom("concat" as const, "sum" as const)),
    ([c, merge]) => {
      const bi = R.bidirectional(c.cell, c.cell, { merge });
      const reverseParams = c.cell.init(
        T.random.key(99),
        { inputSize: c.inputSize, hiddenSize: c.hidden },
        { dtype: "float64" },
      ) as Record<string, T.Tensor>;
      const { xs, opts } = runArgs({ ...c, reverse: false });
      const out = bi.apply({ forward: c.params, reverse: reverseParams }, xs, {
        timeMajor: c.timeMajor,
        ...(opts.lengths === undefined ? {} : { lengths: opts.lengths }),
      });
      // Each direction starts from zeros: the reference cases of a forward and a backward reading.
      const zeros = c.states.map((s) => ({
        h: s.h.map(() => 0),
        ...(s.c === undefined ? {} : { c: s.c.map(() => 0) }),
      }));
      const fwd = referenceRun({ ...c, states: zeros, reverse: false });
      const bwd = referenceRun({ ...c, params: reverseParams, states: zeros, reverse: true });
      const h = c.hidden;
      const want: number[] = [];
      for (let r = 0; r < fwd.outputs.length / h; r++) {
        const f = fwd.outputs.slice(r * h, (r + 1) * h);
        const b = bwd.outputs.slice(r * h, (r + 1) * h);
        want.push(...(merge === "concat" ? [...f, ...b] : f.map((v, j) => v + b[j]!)));
      }
      expectNear(`bidirectional(${c.cell.name}, ${merge})`, out.outputs, want, [
        ...fwd.shape.slice(0, 2),
        merge === "concat" ? 2 * h : h,
      ]);
      expectFinal("bidirectional forward carry", c.cell.name, out.finalCarry.forward, fwd.finals, h);
      expectFinal("bidirectional reverse carry", c.cell.name, out.finalCarry.reverse, bwd.finals, h);
    },
    20,
  );
  n += rejectPool(["bidirectional"], ["avg", 5, true], (merge) =>
    R.bidirectional(R.gru, R.gru, { merge: merge as never }),
  );
  n += rejectPool(["bidirectional"], [null, {}, 5], (cell) => R.bidirectional(cell as R.AnyCell, R.gru));
  n += rejectPool(["bidirectional"], NOT_OPTIONS, (o) => R.bidirectional(R.gru, R.gru, o as never));
  n += misspeltCases({
    names: ["bidirectional"],
    error: T.TensorException,
    known: ["merge"],
    base: { merge: "sum" },
    call: (o) => R.bidirectional(R.gru, R.gru, o),
  });
  const bi = R.bidirectional(R.gru, R.gru);
  const bp = bi.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  const names = ["bidirectional", "rnn", "gru."];
  n += rejectPool(names, [null, {}, { forward: bp.forward }, 5], (p) => bi.apply(p as typeof bp, xs23));
  n += rejectPool(names, [...NOT_TENSORS, normal(1, [2, 3])], (xs) => bi.apply(bp, xs as T.Tensor));
  n += rejectPool(names, BAD_LENGTHS, (lengths) => bi.apply(bp, xs23, { lengths: lengths as number[] }));
  n += rejectPool(names, [...NOT_OPTIONS, { key: 3 }, { key: {} }, { timeMajor: "yes" }], (o) =>
    bi.apply(bp, xs23, o as never),
  );
  n += rejectPool(names, [{ mode: "parallel" }, { mode: "fast" }, { mode: 1 }], (o) => bi.apply(bp, xs23, o as never));
  // Mode "parallel" with cells that have a sequence form: both directions at once, same values.
  const biMin = R.bidirectional(R.minGru, R.minLstm);
  const mp = biMin.init(k0, { inputSize: 3, hiddenSize: 2 }, { dtype: "float64" });
  const mxs = normal(2, [2, 4, 3]);
  for (const lengths of [undefined, [4, 1]]) {
    const o = lengths === undefined ? {} : { lengths };
    const [par, seq] = [biMin.apply(mp, mxs, { ...o, mode: "parallel" }), biMin.apply(mp, mxs, o)];
    for (const [what, x, y] of [
      ["outputs", par.outputs, seq.outputs],
      ["forward carry", par.finalCarry.forward, seq.finalCarry.forward],
      ["reverse carry", par.finalCarry.reverse, seq.finalCarry.reverse],
    ] as const)
      expectNear(`bidirectional(minGru, minLstm) parallel ${what}`, x, (y as T.Tensor).data, y.shape);
    n++;
  }
  const applyKeys = [
    "lengths",
    "timeMajor",
    "initialCarry",
    "key",
    "remat",
    "checkpoint",
    "unroll",
    "truncate",
    "mode",
    "context",
  ];
  n += misspeltCases({
    names: ["bidirectional.apply"],
    error: T.TensorException,
    known: applyKeys,
    base: { lengths: [3, 1] },
    call: (o) => bi.apply(bp, xs23, o),
  });
  // The per-direction initial carries: { foward } must not start the forward direction from zeros.
  const h0 = R.gru.initialCarry(2, bp.forward);
  n += misspeltCases({
    names: ["bidirectional.apply"],
    error: T.TensorException,
    known: ["forward", "reverse"],
    base: { forward: h0, reverse: h0 },
    call: (c) => bi.apply(bp, xs23, { initialCarry: c }),
  });
  const wide = R.bidirectional(R.gru, R.withSizes(R.gru, { hiddenSize: 4 }), { merge: "sum" });
  n += rejectEach(names, {
    "sum of widths 3 and 4": () =>
      wide.apply(wide.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" }), xs23),
  });
  return n;
};
