/**
 * @file Fuzz specs of the cell combinators — `stack`, `residual`, `mapInput`, `mapOutput`,
 * `dropout`, `withSizes` — and of building and checking cells (`defineCell`, `checkCell`,
 * `inputSizeOf`): each composite run through `rnn` against the float64 per-sample reference of
 * its parts, then with mismatched sizes, non-cells, bad rates and malformed specs.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import { expectNear, normal, NOT_OPTIONS, prop, rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { INIT_KEYS, SIZE_KEYS } from "./keys.js";
import { hasCellState, REFERENCE_STEPS, referenceSequence, rowAt, type State } from "./reference.js";
import { CELLS } from "./sequence.js";

const k0 = T.random.key(0);
type Params = Record<string, T.Tensor>;
const NOT_CELLS: readonly unknown[] = [null, undefined, 5, "lstm", {}, { name: "x", init: () => 0 }];

const zeroState = (name: string, h: number): State =>
  hasCellState(name)
    ? { h: new Array<number>(h).fill(0), c: new Array<number>(h).fill(0) }
    : { h: new Array<number>(h).fill(0) };

/** The cells drawn for composites: the step-only ones and the two with a sequence form. */
const PARTS: readonly R.AnyCell[] = [...CELLS, R.minGru, R.minLstm];

/** A random forward run of a composite: batch-major float64 xs `[B, T, F]` and optional lengths. */
const arbComposite = fc
  .record({
    a: fc.constantFrom(...PARTS),
    b: fc.constantFrom(...PARTS),
    f: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 3 }),
    batch: fc.integer({ min: 0, max: 2 }),
    time: fc.integer({ min: 0, max: 3 }),
    seed: fc.nat({ max: 10_000 }),
  })
  .chain((r) =>
    fc
      .option(fc.array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch }))
      .map((lengths) => ({ ...r, lengths: lengths ?? undefined })),
  );

type Composite = typeof arbComposite extends fc.Arbitrary<infer C> ? C : never;

/** Each sample's rows `[T][F]` of batch-major xs. */
const samplesOf = (xs: T.Tensor): number[][][] =>
  Array.from({ length: xs.shape[0]! }, (_, b) =>
    Array.from({ length: xs.shape[1]! }, (_, t) => rowAt(xs, b, t, false)),
  );

/** Runs one cell's reference over per-sample rows from zeros; outputs per sample `[T][H]`. */
const refLayer = (
  cell: R.AnyCell,
  p: Params,
  rows: number[][][],
  lengths: readonly number[] | undefined,
  h: number,
): number[][][] =>
  rows.map(
    (r, b) =>
      referenceSequence(REFERENCE_STEPS[cell.name]!, p, zeroState(cell.name, h), r, lengths?.[b] ?? r.length, false)
        .outputs,
  );

const run = (cell: R.AnyCell, p: unknown, xs: T.Tensor, lengths: readonly number[] | undefined): R.RnnResult<unknown> =>
  R.rnn(cell, p, xs, lengths === undefined ? {} : { lengths: [...lengths] });

/**
 * The composite's outputs against the reference `want`, in mode "sequential" and, when every cell
 * inside has a sequence form (so the composite has one), in mode "parallel" too.
 */
const expectBothModes = (
  what: string,
  cell: R.AnyCell,
  p: unknown,
  xs: T.Tensor,
  lengths: readonly number[] | undefined,
  want: ArrayLike<number>,
  shape: readonly number[],
  rtol?: number,
): void => {
  expectNear(what, run(cell, p, xs, lengths).outputs, want, shape, rtol);
  if (cell.sequence === undefined) return;
  const o = { mode: "parallel" as const, ...(lengths === undefined ? {} : { lengths: [...lengths] }) };
  expectNear(`${what}, mode "parallel"`, R.rnn(cell, p, xs, o).outputs, want, shape, rtol);
};

export const stackSpec: Spec = () => {
  let n = prop(
    arbComposite,
    (c: Composite) => {
      const cell = R.stack([c.a, c.b]);
      const [pa, pb] = cell.init(T.random.key(c.seed), { inputSize: c.f, hiddenSize: c.h }, { dtype: "float64" }) as [
        Params,
        Params,
      ];
      const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
      const first = refLayer(c.a, pa, samplesOf(xs), c.lengths, c.h);
      const want = refLayer(c.b, pb, first, c.lengths, c.h).flat(2);
      expectBothModes(`stack([${c.a.name}, ${c.b.name}])`, cell, [pa, pb], xs, c.lengths, want, [c.batch, c.time, c.h]);
    },
    15,
  );
  n += rejectPool(["stack"], [[], null, "x", 5, ...NOT_CELLS.map((bad) => [R.lstm, bad])], (cells) =>
    R.stack(cells as R.AnyCell[]),
  );
  n += rejectPool(
    ["stack"],
    [...NOT_OPTIONS, { dropout: 1 }, { dropout: -0.1 }, { dropout: NaN }, { dropout: "0.5" }],
    (o) => R.stack([R.lstm, R.gru], o as never),
  );
  n += misspeltCases({
    names: ["stack"],
    error: T.TensorException,
    known: ["dropout"],
    base: { dropout: 0.2 },
    call: (o) => R.stack([R.lstm, R.gru], o),
  });
  const cell = R.stack([R.lstm, R.gru]);
  const ps = cell.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  n += rejectEach(["stack([lstm, gru])", "lstm.", "gru."], {
    "params of one layer": () => cell.step([ps[0]] as never),
    "params as an object": () => cell.initialCarry(2, { 0: ps[0], 1: ps[1] } as never),
    "a carry of one layer": () => cell.step(ps)([cell.initialCarry(2, ps)[0]] as never, normal(1, [2, 2])),
    "sizes null": () => cell.init(k0, null as never),
    "inputs of 5 features": () => R.rnn(cell, ps, normal(1, [2, 3, 5])),
  });
  return n;
};

export const residualSpec: Spec = () => {
  let n = prop(
    arbComposite,
    (c: Composite) => {
      const cell = R.residual(c.a);
      const p = cell.init(T.random.key(c.seed), { inputSize: c.h, hiddenSize: c.h }, { dtype: "float64" }) as Params;
      const xs = normal(c.seed + 1, [c.batch, c.time, c.h]);
      const rows = samplesOf(xs);
      const ys = refLayer(c.a, p, rows, c.lengths, c.h);
      const want = ys.flatMap((s, b) =>
        s.flatMap((y, t) => (t < (c.lengths?.[b] ?? c.time) ? y.map((v, j) => v + rows[b]![t]![j]!) : y)),
      );
      expectBothModes(`residual(${c.a.name})`, cell, p, xs, c.lengths, want, [c.batch, c.time, c.h]);
    },
    15,
  );
  n += rejectPool(["residual"], NOT_CELLS, (cell) => R.residual(cell as R.AnyCell));
  const cell = R.residual(R.gru);
  const narrow = R.gru.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  n += rejectEach(["residual(gru)", "gru."], {
    "init with outputSize ≠ inputSize": () => cell.init(k0, { inputSize: 2, hiddenSize: 3 }),
    "step with outputSize ≠ inputSize": () => cell.step(narrow)(R.gru.initialCarry(2, narrow), normal(1, [2, 2])),
    "sizes null": () => cell.init(k0, null as never),
  });
  return n;
};

export const mapInputSpec: Spec = () => {
  let n = prop(
    arbComposite,
    (c: Composite) => {
      const cell = R.mapInput(c.a, R.linear(c.h));
      const p = cell.init(T.random.key(c.seed), { inputSize: c.f, hiddenSize: c.h }, { dtype: "float64" }) as {
        input: R.LinearParams;
        cell: Params;
      };
      const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
      const projected = T.add(T.matmul(xs, T.transpose(p.input.weight as T.Tensor)), p.input.bias as T.Tensor);
      expectBothModes(
        `mapInput(${c.a.name})`,
        cell,
        p,
        xs,
        c.lengths,
        refLayer(c.a, p.cell, samplesOf(projected), c.lengths, c.h).flat(2),
        [c.batch, c.time, c.h],
        1e-9,
      );
    },
    12,
  );
  n += rejectPool(["mapInput"], NOT_CELLS, (cell) => R.mapInput(cell as R.AnyCell, R.linear(2)));
  n += rejectPool(["mapInput"], [null, 5, {}, { init: () => 0 }], (layer) =>
    R.mapInput(R.gru, layer as unknown as R.Layer),
  );
  const cell = R.mapInput(R.gru, R.embedding(5, 3));
  const p = cell.init(k0, { inputSize: 1, hiddenSize: 2 }, { dtype: "float64" });
  const ids = (d: number[]) => T.fromDataOrThrow(d, [2, d.length / 2, 1], "int32");
  n += rejectEach(["mapInput(gru, embedding(5, 3))", "embedding(5, 3)", "take"], {
    "params without input": () => cell.step({ cell: p.cell } as never),
    "params null": () => cell.initialCarry(2, null as never),
    "float features for an embedding": () => R.rnn(cell, p, normal(1, [2, 2, 1])),
    "an id ≥ vocab inside rnn": () => R.rnn(cell, p, ids([7, 1, 2, 3])),
    "the input size of token ids": () => cell.inputSize!(p),
  });
  return n;
};

export const mapOutputSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbComposite, fc.integer({ min: 1, max: 3 })),
    ([c, v]: [Composite, number]) => {
      const cell = R.mapOutput(c.a, R.linear(v, { bias: false }));
      const p = cell.init(T.random.key(c.seed), { inputSize: c.f, hiddenSize: c.h }, { dtype: "float64" }) as {
        cell: Params;
        output: R.LinearParams;
      };
      const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
      const w = p.output.weight as T.Tensor;
      const want = refLayer(c.a, p.cell, samplesOf(xs), c.lengths, c.h).flatMap((s) =>
        s.flatMap((y) =>
          Array.from({ length: v }, (_, o) => y.reduce((acc, yj, j) => acc + yj * w.data[o * c.h + j]!, 0)),
        ),
      );
      expectBothModes(`mapOutput(${c.a.name})`, cell, p, xs, c.lengths, want, [c.batch, c.time, v]);
    },
    12,
  );
  n += rejectPool(["mapOutput"], NOT_CELLS, (cell) => R.mapOutput(cell as R.AnyCell, R.linear(2)));
  n += rejectPool(["mapOutput"], [null, 5, {}], (layer) => R.mapOutput(R.gru, layer as R.Layer));
  const cell = R.mapOutput(R.gru, R.linear(2));
  n += rejectPool(["mapOutput(gru, linear(2))"], [null, 5, {}, { cell: {} }], (p) => cell.step(p as never));
  return n;
};

export const dropoutSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbComposite, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.boolean()),
    ([c, rate, keyed]: [Composite, number, boolean]) => {
      const cell = R.dropout(c.a, rate);
      const p = c.a.init(T.random.key(c.seed), { inputSize: c.f, hiddenSize: c.h }, { dtype: "float64" }) as Params;
      const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
      const key = T.random.key(c.seed + 2);
      let rows = samplesOf(xs);
      if (keyed && c.time > 0) {
        // Step t reads x_t through the keep mask the cell's noise draws from the t-th key.
        const keys = T.random.split(key, c.time);
        const masks = keys.map((k) => (cell.noise!(k, c.batch, p) as { mask: T.Tensor | null }).mask);
        rows = rows.map((r, b) =>
          r.map((x, t) => x.map((v, j) => (masks[t] === null || masks[t]!.data[b * c.f + j] ? v / (1 - rate) : 0))),
        );
      }
      const out = R.rnn(cell, p, xs, keyed ? { key } : {});
      const want = refLayer(c.a, p, rows, undefined, c.h).flat(2);
      expectNear(`dropout(${c.a.name}, ${rate})`, out.outputs, want, [c.batch, c.time, c.h], 1e-9, 1e-12);
      // Unkeyed, dropout is the identity, so parallel mode (which takes no key) gives the same.
      if (!keyed && cell.sequence !== undefined)
        expectNear(
          `dropout(${c.a.name}, ${rate}), mode "parallel"`,
          R.rnn(cell, p, xs, { mode: "parallel" }).outputs,
          want,
          [c.batch, c.time, c.h],
          1e-9,
        );
    },
    15,
  );
  n += rejectPool(["dropout"], [1, -0.1, 1.5, NaN, "0.5", null], (rate) => R.dropout(R.gru, rate as number));
  n += rejectPool(["dropout"], NOT_CELLS, (cell) => R.dropout(cell as R.AnyCell, 0.5));
  const noSize = R.defineCell({
    name: "noSize",
    init: () => ({}),
    initialCarry: (b) => T.zeros([b, 1], "float64"),
    step: (_p: object, h: A.Value) => [h, h],
    outputSize: 1,
  });
  n += rejectEach(["dropout(noSize, 0.5)"], {
    "a cell without an input size, keyed": () => R.rnn(R.dropout(noSize, 0.5), {}, normal(1, [1, 2, 1]), { key: k0 }),
  });
  return n;
};

export const withSizesSpec: Spec = () => {
  let n = prop(
    fc.record({ cell: fc.constantFrom(...PARTS), h: fc.integer({ min: 1, max: 4 }) }),
    ({ cell, h }) => {
      const sized = R.withSizes(cell, { hiddenSize: h });
      const p = sized.init(k0, { inputSize: 2, hiddenSize: 7 });
      expect(cell.outputSize(p)).toBe(h);
      expect(cell.inputSize?.(p)).toBe(2);
      // Everything but init is the cell's, its sequence form included.
      expect(sized.sequence).toBe(cell.sequence);
    },
    8,
  );
  n += rejectPool(["withSizes"], [null, 5, "x"], (sizes) => R.withSizes(R.lstm, sizes as never));
  n += rejectPool(["withSizes"], NOT_CELLS, (cell) => R.withSizes(cell as R.AnyCell, {}));
  n += rejectPool(["lstm.init"], [{ hiddenSize: -1 }, { hiddenSize: 1.5 }, { inputSize: "2" }], (sizes) =>
    R.withSizes(R.lstm, sizes as never).init(k0, { inputSize: 2, hiddenSize: 3 }),
  );
  // withSizes passes any sizes on (a custom cell may read more); the built-in cell refuses a misspelt one at init.
  n += misspeltCases({
    names: ["lstm.init"],
    error: T.TensorException,
    known: SIZE_KEYS,
    base: { hiddenSize: 4 },
    call: (sizes) => R.withSizes(R.lstm, sizes).init(k0, { inputSize: 2, hiddenSize: 3 }),
  });
  return n;
};

export const inputSizeOfSpec: Spec = () => {
  let n = prop(
    fc.record({ cell: fc.constantFrom(...CELLS), i: fc.integer({ min: 1, max: 5 }) }),
    ({ cell, i }) => {
      expect(R.inputSizeOf("op", cell, cell.init(k0, { inputSize: i, hiddenSize: 2 }))).toBe(i);
    },
    8,
  );
  const bare = R.defineCell({
    name: "bare",
    init: () => ({}),
    initialCarry: (b) => T.zeros([b, 1]),
    step: (_p: object, h: A.Value) => [h, h],
    outputSize: 1,
  });
  n += rejectEach(["myOp"], { "a cell that cannot tell": () => R.inputSizeOf("myOp", bare, {}) });
  n += rejectPool(["myOp"], NOT_CELLS, (cell) => R.inputSizeOf("myOp", cell as R.AnyCell, {}));
  return n;
};

export const checkCellSpec: Spec = () => {
  // Typed as AnyCell[]: a literal mixing cells of different parameter types has no single Cell<P, C>.
  const cells: R.AnyCell[] = [...CELLS, R.stack([R.lstm]), R.dropout(R.gru, 0.1)];
  for (const cell of cells) expect(R.checkCell("op", "cell", cell)).toBe(cell);
  return (
    CELLS.length + 2 + rejectPool(["myOp"], NOT_CELLS, (cell) => R.checkCell("myOp", "cells[0]", cell as R.AnyCell))
  );
};

/** An Elman tanh cell written with defineCell, which must equal the built-in one. */
const myElman = R.defineCell<R.TorchCellParams, A.Value>({
  name: "myElman",
  init: (key, sizes, options) => R.elmanTanh.init(key, sizes, options),
  initialCarry: (batch, p) => T.zeros([batch, p.weight_hh.shape[1]!], p.weight_hh.dtype),
  step: (p, h, x) => {
    const next = A.tanh(
      A.add(
        A.add(A.matmul(x, A.transpose(p.weight_ih)), p.bias_ih),
        A.add(A.matmul(h, A.transpose(p.weight_hh)), p.bias_hh),
      ),
    );
    return [next, next];
  },
  outputSize: (p) => p.weight_hh.shape[1]!,
});

export const defineCellSpec: Spec = () => {
  let n = prop(
    arbComposite,
    (c: Composite) => {
      const p = myElman.init(
        T.random.key(c.seed),
        { inputSize: c.f, hiddenSize: c.h },
        { dtype: "float64" },
      ) as unknown as Params;
      const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
      expectNear(
        "defineCell(myElman)",
        run(myElman, p, xs, c.lengths).outputs,
        refLayer(R.elmanTanh, p, samplesOf(xs), c.lengths, c.h).flat(2),
        [c.batch, c.time, c.h],
      );
    },
    10,
  );
  const base = {
    name: "c",
    init: () => ({}),
    initialCarry: (b: number) => T.zeros([b, 2]),
    step: (_p: object, h: A.Value) => [h, h] as const,
    outputSize: 2,
  };
  n += rejectPool(
    ["defineCell"],
    [
      null,
      5,
      { ...base, name: "" },
      { ...base, name: 3 },
      { ...base, init: 5 },
      { ...base, step: null },
      { ...base, outputSize: 0 },
      { ...base, outputSize: "2" },
      { ...base, noise: 5 },
      { ...base, inputSize: 1 },
      { ...base, sequence: "parallel" },
    ],
    (spec) => R.defineCell(spec as never),
  );
  const cellOf = (step: (p: object, h: A.Value, x: A.Value) => unknown, outputSize: number | (() => number) = 2) =>
    R.defineCell({ ...base, step: step as never, outputSize });
  const seqOf = (sequence: (p: object, h: A.Value, xs: A.Value) => unknown) =>
    R.defineCell({ ...base, sequence: sequence as never });
  const h = T.zeros([3, 2]);
  const x = T.zeros([3, 4]);
  const xs = T.zeros([3, 1, 4]);
  // A well-formed sequence form passes through defineCell's checks unchanged.
  const [carried, ys] = seqOf((_p, c) => [c, T.ones([3, 1, 2])]).sequence!({})(h, xs);
  expect([carried, ys.shape]).toEqual([h, [3, 1, 2]]);
  n += rejectEach(["c.step", "c.sequence", "defineCell(c)"], {
    "a step returning a number": () => cellOf(() => 7).step({})(h, x),
    "a step returning [carry]": () => cellOf((_p, c) => [c]).step({})(h, x),
    "a carry of another structure": () => cellOf((_p, c) => [{ h: c }, c]).step({})(h, x),
    "a carry of another dtype": () => cellOf((_p, c) => [A.astype(c, "float64"), c]).step({})(h, x),
    "a y of the wrong width": () => cellOf((_p, c) => [c, T.zeros([3, 5])]).step({})(h, x),
    "a y that is a number": () => cellOf((_p, c) => [c, 1]).step({})(h, x),
    "an x of rank 1": () => cellOf((_p, c) => [c, c]).step({})(h, T.zeros([3])),
    "outputSize(params) NaN": () =>
      cellOf(
        (_p, c) => [c, c],
        () => NaN,
      ).step({}),
    "a sequence form returning ys": () => seqOf(() => T.zeros([3, 1, 2])).sequence!({})(h, xs),
    "a sequence form returning a carry of another shape": () =>
      seqOf(() => [T.zeros([2, 2]), T.zeros([3, 1, 2])]).sequence!({})(h, xs),
    "a sequence form returning ys without the time axis": () => seqOf((_p, c) => [c, c]).sequence!({})(h, xs),
    "a sequence form given one step": () => seqOf((_p, c) => [c, T.zeros([3, 1, 2])]).sequence!({})(h, x),
    "init returning null": () =>
      R.defineCell({ ...base, init: () => null as never }).init(k0, { inputSize: 1, hiddenSize: 1 }),
  });
  n += rejectPool(["c.initialCarry"], [-1, 1.5, NaN], (b) => cellOf((_p, c) => [c, c]).initialCarry(b, {}));
  // The spec is a record of named functions (a misspelt `nosie` would give a cell without dropout), and a defined cell's init takes InitOptions.
  n += misspeltCases({
    names: ["defineCell"],
    error: T.TensorException,
    known: ["name", "init", "initialCarry", "step", "outputSize", "inputSize", "noise", "sequence"],
    base,
    call: (spec) => R.defineCell(spec as never),
  });
  n += misspeltCases({
    names: ["myElman.init"],
    error: T.TensorException,
    known: INIT_KEYS,
    base: { dtype: "float64" },
    call: (o) => myElman.init(k0, { inputSize: 2, hiddenSize: 3 }, o),
  });
  return n;
};
