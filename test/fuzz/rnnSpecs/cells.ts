/**
 * @file Fuzz specs of the built-in cells (elmanTanh, elmanRelu, lstm, gru, peepholeLstm,
 * layerNormLstm, mgu, minGru, minLstm): `init` with bad sizes and options, `initialCarry` with bad batches and
 * parameters, and `step` against the float64 reference equations — then with wrong input
 * features, ranks, batches, dtypes (float32 inputs to float64 parameters are refused: the step
 * never mixes dtypes), and wrong carries.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import type { AnyCell } from "@rewind/rnn";
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
import { hasCellState, REFERENCE_STEPS, rowOf, type State } from "./reference.js";

type Shapes = Record<string, readonly number[]>;
const torch =
  (gates: number) =>
  (i: number, h: number): Shapes => ({
    weight_ih: [gates * h, i],
    weight_hh: [gates * h, h],
    bias_ih: [gates * h],
    bias_hh: [gates * h],
  });

/** `shapes` without the two PyTorch biases: what `withoutBias(cell).init` returns. */
const noBias =
  (shapes: (i: number, h: number) => Shapes) =>
  (i: number, h: number): Shapes => {
    const { bias_ih: _ih, bias_hh: _hh, ...rest } = shapes(i, h);
    return rest;
  };

/** The parameters each cell's `init` must return for inputSize i and hiddenSize h. */
const PARAM_SHAPES: Readonly<Record<string, (i: number, h: number) => Shapes>> = {
  elmanTanh: torch(1),
  elmanRelu: torch(1),
  gru: torch(3),
  lstm: torch(4),
  peepholeLstm: (i, h) => ({ ...torch(4)(i, h), weight_ci: [h], weight_cf: [h], weight_co: [h] }),
  layerNormLstm: (i, h) => ({
    weight_ih: [4 * h, i],
    weight_hh: [4 * h, h],
    ln_ih_weight: [4 * h],
    ln_ih_bias: [4 * h],
    ln_hh_weight: [4 * h],
    ln_hh_bias: [4 * h],
    ln_c_weight: [h],
    ln_c_bias: [h],
  }),
  mgu: (i, h) => ({
    weight_if: [h, i],
    weight_hf: [h, h],
    bias_f: [h],
    weight_in: [h, i],
    weight_hn: [h, h],
    bias_n: [h],
  }),
  minGru: (i, h) => ({ weight: [2 * h, i], bias: [2 * h] }),
  minLstm: (i, h) => ({ weight: [3 * h, i], bias: [3 * h] }),
  elmanTanhWithoutBias: noBias(torch(1)),
  elmanReluWithoutBias: noBias(torch(1)),
  gruWithoutBias: noBias(torch(3)),
  lstmWithoutBias: noBias(torch(4)),
  peepholeLstmWithoutBias: (i, h) => ({ ...noBias(torch(4))(i, h), weight_ci: [h], weight_cf: [h], weight_co: [h] }),
};

type Params = Record<string, T.Tensor>;
const k0 = T.random.key(0);
const sizes = fc.record({
  i: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 4 }),
  seed: fc.nat({ max: 10_000 }),
});

/** A float64 carry of the cell's kind for `batch` rows, and its reference states. */
export const randomCarry = (
  name: string,
  seed: number,
  batch: number,
  hidden: number,
): { carry: unknown; states: State[] } => {
  const h = normal(seed, [batch, hidden], 0.5);
  const c = normal(seed + 1, [batch, hidden], 0.5);
  const states = Array.from({ length: batch }, (_, b) =>
    hasCellState(name) ? { h: rowOf(h, b), c: rowOf(c, b) } : { h: rowOf(h, b) },
  );
  return { carry: hasCellState(name) ? { h, c } : h, states };
};

/** Every way to hand a cell parameters it did not make (built from valid ones). */
const badParams = (p: Params): Record<string, unknown> => {
  const [first, second] = Object.keys(p).sort() as [string, string];
  return {
    null: null,
    "a number": 5,
    "an empty object": {},
    [`no ${first}`]: { ...p, [first]: undefined },
    [`${second} as an array`]: { ...p, [second]: [1, 2, 3] },
    [`${first} of another shape`]: { ...p, [first]: normal(0, [1]) },
    [`${first} in float32 among float64`]: { ...p, [first]: T.astype(p[first]!, "float32") },
  };
};

/**
 * The fuzz spec of one built-in cell. A wrapper (`withoutBias(lstm)`) passes the wrapped cell's
 * name as `alias`: its errors may name either (the wrapped cell does the checking), and its
 * reference step is the alias's (the reference reads an absent bias as none).
 */
export const cellSpec =
  (cell: AnyCell, alias?: string): Spec =>
  () => {
    const name = cell.name;
    const shapes = PARAM_SHAPES[name]!;
    const step = REFERENCE_STEPS[alias ?? name]!;
    const ops = (op: string): string[] => [`${name}.${op}`, ...(alias === undefined ? [] : [`${alias}.${op}`])];
    let n = 0;

    // init: any valid sizes, dtype and scheme give exactly the documented parameters.
    n += prop(
      fc.record({
        s: sizes,
        dtype: fc.constantFrom("float32" as const, "float64" as const),
        scheme: fc.constantFrom(undefined, "default" as const, "orthogonal" as const, "glorot" as const),
      }),
      ({ s, dtype, scheme }) => {
        const p = cell.init(
          T.random.key(s.seed),
          { inputSize: s.i, hiddenSize: s.h },
          scheme === undefined ? { dtype } : { dtype, scheme },
        ) as Params;
        const want = shapes(s.i, s.h);
        expect(Object.keys(p).sort()).toEqual(Object.keys(want).sort());
        for (const [k, shape] of Object.entries(want)) {
          expect(p[k]!.shape, k).toEqual(shape);
          expect(p[k]!.dtype, k).toBe(dtype);
          expect(
            p[k]!.data.every((v) => Number.isFinite(v)),
            k,
          ).toBe(true);
        }
        expect(cell.outputSize(p)).toBe(s.h);
        expect(cell.inputSize?.(p)).toBe(s.i);
      },
      10,
    );
    for (const field of ["inputSize", "hiddenSize"])
      n += rejectPool(ops("init"), BAD_SIZES, (bad) => cell.init(k0, { inputSize: 2, hiddenSize: 3, [field]: bad }));
    n += rejectPool(ops("init"), [null, 5, "x", [2, 3]], (s) => cell.init(k0, s as never));
    n += rejectPool(
      ops("init"),
      [null, 5, { dtype: "int32" }, { dtype: "float16" }, { scheme: "xavier" }, { scheme: 3 }],
      (o) => cell.init(k0, { inputSize: 2, hiddenSize: 3 }, o as never),
    );
    // Sizes and init options are options objects: `{ hiden: 3 }` and `{ dtyp: "float64" }` must not fall back to defaults.
    n += misspeltCases({
      names: ops("init"),
      error: T.TensorException,
      known: SIZE_KEYS,
      base: { inputSize: 2, hiddenSize: 3 },
      call: (s) => cell.init(k0, s as never),
    });
    n += misspeltCases({
      names: ops("init"),
      error: T.TensorException,
      known: INIT_KEYS,
      base: { dtype: "float64", scheme: "glorot" },
      call: (o) => cell.init(k0, { inputSize: 2, hiddenSize: 3 }, o),
    });

    // step: float64 steps against the reference equations, batches from 0.
    n += prop(
      fc.record({ s: sizes, batch: fc.integer({ min: 0, max: 3 }) }),
      ({ s, batch }) => {
        const p = cell.init(T.random.key(s.seed), { inputSize: s.i, hiddenSize: s.h }, { dtype: "float64" }) as Params;
        const x = normal(s.seed + 1, [batch, s.i]);
        const { carry, states } = randomCarry(name, s.seed + 2, batch, s.h);
        const [next, y] = cell.step(p)(carry, x);
        const ref = states.map((st, b) => step(p, st, rowOf(x, b)));
        expectNear(
          `${name}.step y`,
          y,
          ref.flatMap((r) => r.h),
          [batch, s.h],
        );
        const nextH = hasCellState(name) ? (next as { h: T.Tensor }).h : next;
        expectNear(
          `${name}.step h`,
          nextH,
          ref.flatMap((r) => r.h),
          [batch, s.h],
        );
        if (hasCellState(name))
          expectNear(
            `${name}.step c`,
            (next as { c: T.Tensor }).c,
            ref.flatMap((r) => r.c!),
            [batch, s.h],
          );
      },
      15,
    );

    const p = cell.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" }) as Params;
    const carry = cell.initialCarry(2, p);
    const x = normal(1, [2, 2]);
    const other = cell.init(k0, { inputSize: 2, hiddenSize: 4 }, { dtype: "float64" });
    n += rejectEach(ops("step"), {
      "x with 5 features": () => cell.step(p)(carry, normal(1, [2, 5])),
      "x of rank 3": () => cell.step(p)(carry, normal(1, [2, 1, 2])),
      "x of rank 1": () => cell.step(p)(carry, normal(1, [2])),
      "x with another batch than the carry": () => cell.step(p)(carry, normal(1, [4, 2])),
      "float32 x for float64 parameters": () => cell.step(p)(carry, T.astype(x, "float32")),
      "int32 x": () => cell.step(p)(carry, T.zeros([2, 2], "int32")),
      "a carry of another hidden size": () => cell.step(p)(cell.initialCarry(2, other), x),
      "a float32 carry": () => cell.step(p)(cell.initialCarry(2, cell.init(k0, { inputSize: 2, hiddenSize: 3 })), x),
    });
    n += rejectPool(ops("step"), NOT_TENSORS, (bad) => cell.step(p)(carry, bad as T.Tensor));
    // A missing, mis-shaped or mixed-dtype parameter is named when the step (or carry) is built.
    for (const [label, q] of Object.entries(badParams(p))) {
      n += rejectEach([...ops("step"), ...ops("outputSize")], { [`step(${label})`]: () => cell.step(q)(carry, x) });
      n += rejectEach(ops("initialCarry"), { [`initialCarry(2, ${label})`]: () => cell.initialCarry(2, q) });
    }

    // initialCarry: zeros [batch, hidden] of the parameters' dtype; bad batches are refused.
    n += prop(
      fc.integer({ min: 0, max: 5 }),
      (batch) => {
        const leaves = hasCellState(name)
          ? Object.values(cell.initialCarry(batch, p) as Record<string, T.Tensor>)
          : [cell.initialCarry(batch, p) as T.Tensor];
        for (const leaf of leaves)
          expectNear(`${name}.initialCarry`, leaf, new Array<number>(batch * 3).fill(0), [batch, 3], 0, 0);
      },
      4,
    );
    n += rejectPool(ops("initialCarry"), BAD_COUNTS, (b) => cell.initialCarry(b as number, p));
    return n;
  };
