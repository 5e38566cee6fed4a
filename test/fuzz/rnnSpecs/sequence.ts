/**
 * @file Fuzz specs of running cells over sequences: `rnn` (every built-in cell, both layouts,
 * both directions, with and without lengths, size-0 batch and time axes) against the float64
 * per-sample reference, and the lengths helpers `validateLengths`, `stepMask`, `reverseValid`.
 *
 * Size-0 axes are documented behaviour, not errors: a batch of 0 or a sequence of 0 steps gives
 * empty outputs of the right shape, and with 0 steps the final carry is the initial carry.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import {
  BAD_COUNTS,
  dataOf,
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
import { RNN_CALL_KEYS } from "./keys.js";
import { randomCarry } from "./cells.js";
import { hasCellState, REFERENCE_STEPS, referenceSequence, rowAt, type State } from "./reference.js";

/** Every built-in cell, for properties that range over cells. */
export const CELLS: readonly R.AnyCell[] = [
  R.elmanTanh,
  R.elmanRelu,
  R.gru,
  R.lstm,
  R.peepholeLstm,
  R.layerNormLstm,
  R.mgu,
];

const k0 = T.random.key(0);

/** A random float64 run: cell, sizes, batch and time from 0, layout, direction, optional lengths. */
export interface RunCase {
  readonly cell: R.AnyCell;
  readonly params: Record<string, T.Tensor>;
  readonly inputSize: number;
  readonly hidden: number;
  /** Batch-major inputs `[B, T, F]`. */
  readonly xs: T.Tensor;
  readonly carry: unknown;
  readonly states: State[];
  readonly lengths: number[] | undefined;
  readonly asTensor: boolean;
  readonly timeMajor: boolean;
  readonly reverse: boolean;
}

export const arbRunCase = (
  opts: { readonly minTime?: number; readonly cells?: readonly R.AnyCell[] } = {},
): fc.Arbitrary<RunCase> =>
  fc
    .record({
      cell: fc.constantFrom(...(opts.cells ?? CELLS)),
      i: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 3 }),
      batch: fc.integer({ min: 0, max: 3 }),
      time: fc.integer({ min: opts.minTime ?? 0, max: 4 }),
      seed: fc.nat({ max: 10_000 }),
      timeMajor: fc.boolean(),
      reverse: fc.boolean(),
      withLengths: fc.boolean(),
      asTensor: fc.boolean(),
    })
    .chain((r) =>
      fc.array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch }).map((ls): RunCase => {
        const params = r.cell.init(
          T.random.key(r.seed),
          { inputSize: r.i, hiddenSize: r.h },
          { dtype: "float64" },
        ) as Record<string, T.Tensor>;
        const { carry, states } = randomCarry(r.cell.name, r.seed + 2, r.batch, r.h);
        return {
          cell: r.cell,
          params,
          inputSize: r.i,
          hidden: r.h,
          xs: normal(r.seed + 1, [r.batch, r.time, r.i]),
          carry,
          states,
          lengths: r.withLengths ? ls : undefined,
          asTensor: r.asTensor,
          timeMajor: r.timeMajor,
          reverse: r.reverse,
        };
      }),
    );

/** The case's xs in its layout and its `rnn` options (lengths as numbers or an int32 tensor). */
export const runArgs = (c: RunCase): { xs: T.Tensor; opts: R.RnnOptions<unknown> } => {
  const lengths =
    c.lengths === undefined
      ? undefined
      : c.asTensor
        ? T.fromDataOrThrow(c.lengths, [c.lengths.length], "int32")
        : c.lengths;
  return {
    xs: c.timeMajor ? T.transpose(c.xs, [1, 0, 2]) : c.xs,
    opts: {
      initialCarry: c.carry,
      timeMajor: c.timeMajor,
      reverse: c.reverse,
      ...(lengths === undefined ? {} : { lengths }),
    },
  };
};

/** The reference outputs (in the case's layout, flat) and final states of a case. */
export const referenceRun = (c: RunCase): { outputs: number[]; finals: State[]; shape: number[] } => {
  const [batch, time] = c.xs.shape as [number, number];
  const per = c.states.map((s, b) =>
    referenceSequence(
      REFERENCE_STEPS[c.cell.name]!,
      c.params,
      s,
      Array.from({ length: time }, (_, t) => rowAt(c.xs, b, t, false)),
      c.lengths?.[b] ?? time,
      c.reverse,
    ),
  );
  const outputs: number[] = [];
  if (c.timeMajor) for (let t = 0; t < time; t++) for (let b = 0; b < batch; b++) outputs.push(...per[b]!.outputs[t]!);
  else for (let b = 0; b < batch; b++) for (let t = 0; t < time; t++) outputs.push(...per[b]!.outputs[t]!);
  return {
    outputs,
    finals: per.map((r) => r.final),
    shape: c.timeMajor ? [time, batch, c.hidden] : [batch, time, c.hidden],
  };
};

/** Checks a final carry against reference states. */
export const expectFinal = (
  what: string,
  name: string,
  carry: unknown,
  finals: readonly State[],
  hidden: number,
): void => {
  const h = hasCellState(name) ? (carry as { h: T.Tensor }).h : carry;
  expectNear(
    `${what} h`,
    h,
    finals.flatMap((s) => s.h),
    [finals.length, hidden],
  );
  if (hasCellState(name))
    expectNear(
      `${what} c`,
      (carry as { c: T.Tensor }).c,
      finals.flatMap((s) => s.c!),
      [finals.length, hidden],
    );
};

const lstmP = R.lstm.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
const xs23 = normal(1, [2, 3, 2]);

export const rnnSpec: Spec = () => {
  let n = prop(
    arbRunCase(),
    (c) => {
      const { xs, opts } = runArgs(c);
      const out = R.rnn(c.cell, c.params, xs, opts);
      const ref = referenceRun(c);
      expectNear(`rnn(${c.cell.name}) outputs`, out.outputs, ref.outputs, ref.shape);
      expectFinal(`rnn(${c.cell.name}) finalCarry`, c.cell.name, out.finalCarry, ref.finals, c.hidden);
      // outputs: false returns the same final carry and nothing else.
      const final = R.rnn(c.cell, c.params, xs, { ...opts, outputs: false });
      expect(Object.keys(final)).toEqual(["finalCarry"]);
      expectFinal(
        `rnn(${c.cell.name}, outputs: false) finalCarry`,
        c.cell.name,
        final.finalCarry,
        ref.finals,
        c.hidden,
      );
    },
    40,
  );
  const names = ["rnn", "lstm.step", "scan"];
  n += rejectEach(names, {
    "xs of rank 1": () => R.rnn(R.lstm, lstmP, normal(1, [2])),
    "xs of rank 0": () => R.rnn(R.lstm, lstmP, T.scalar(1, "float64")),
    "float32 xs for float64 parameters": () => R.rnn(R.lstm, lstmP, T.astype(xs23, "float32")),
    "xs with 5 features": () => R.rnn(R.lstm, lstmP, normal(1, [2, 3, 5])),
    "an initial carry of batch 3": () => R.rnn(R.lstm, lstmP, xs23, { initialCarry: R.lstm.initialCarry(3, lstmP) }),
    "a float32 initial carry": () =>
      R.rnn(R.lstm, lstmP, xs23, {
        initialCarry: R.lstm.initialCarry(2, R.lstm.init(k0, { inputSize: 2, hiddenSize: 3 })),
      }),
    "an initial carry without c": () =>
      R.rnn(R.lstm, lstmP, xs23, { initialCarry: { h: T.zeros([2, 3], "float64") } as R.LstmCarry }),
    "unroll 0": () => R.rnn(R.lstm, lstmP, xs23, { unroll: 0 }),
    "truncate -1": () => R.rnn(R.lstm, lstmP, xs23, { truncate: -1 }),
    "remat policy 'x'": () => R.rnn(R.lstm, lstmP, xs23, { remat: "x" as never }),
    "checkpoint policy 'x' (the deprecated alias)": () => R.rnn(R.lstm, lstmP, xs23, { checkpoint: "x" as never }),
    "both remat and checkpoint": () => R.rnn(R.lstm, lstmP, xs23, { remat: "all", checkpoint: "all" }),
  });
  n += rejectPool(names, NOT_TENSORS, (xs) => R.rnn(R.lstm, lstmP, xs as T.Tensor));
  n += rejectPool(names, NOT_OPTIONS, (o) => R.rnn(R.lstm, lstmP, xs23, o as never));
  n += misspeltCases({
    names: ["rnn"],
    error: T.TensorException,
    known: RNN_CALL_KEYS,
    base: { lengths: [3, 2], reverse: true },
    call: (o) => R.rnn(R.lstm, lstmP, xs23, o),
  });
  n += rejectPool(names, [null, {}, { name: "x", step: () => [0, 0] }, 5], (cell) =>
    R.rnn(cell as unknown as R.AnyCell, lstmP, xs23),
  );
  for (const flag of ["timeMajor", "reverse", "outputs"])
    n += rejectPool(names, NOT_FLAGS, (v) => R.rnn(R.lstm, lstmP, xs23, { [flag]: v }));
  n += rejectPool(names, [5, {}, "key", [1, 2]], (key) =>
    R.rnn(R.dropout(R.lstm, 0.5), lstmP, xs23, { key: key as T.Key }),
  );
  n += rejectPool(names, BAD_LENGTHS, (lengths) => R.rnn(R.lstm, lstmP, xs23, { lengths: lengths as number[] }));
  return n;
};

/** Lengths that do not fit a batch of 2 sequences of 3 steps. */
export const BAD_LENGTHS: readonly unknown[] = [
  [1.5, 1],
  [-1, 1],
  [4, 1],
  [2 ** 40, 1],
  [2 ** 32 + 1, 0],
  [NaN, 1],
  [Infinity, 1],
  ["1", 1],
  [1],
  [1, 1, 1],
  [],
  T.zeros([2], "float32"),
  T.zeros([2, 1], "int32"),
  T.fromDataOrThrow([4, 0], [2], "int32"),
  T.fromDataOrThrow([-1, 0], [2], "int32"),
  "ab",
  null,
  {},
  3,
];

/** Random valid lengths with their batch and time. */
const arbLengths = fc
  .record({ batch: fc.integer({ min: 0, max: 4 }), time: fc.integer({ min: 0, max: 5 }), asTensor: fc.boolean() })
  .chain((r) =>
    fc
      .array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch })
      .map((ls) => ({ ...r, ls })),
  );
const lengthsArg = (ls: number[], asTensor: boolean): R.RnnOptions<unknown>["lengths"] & object =>
  asTensor ? T.fromDataOrThrow(ls, [ls.length], "int32") : ls;

export const validateLengthsSpec: Spec = () => {
  let n = prop(
    arbLengths,
    ({ batch, time, ls, asTensor }) => {
      const v = R.validateLengths("myOp", lengthsArg(ls, asTensor), batch, time);
      expect(v.dtype).toBe("int32");
      expectNear("validateLengths", v, ls, [batch], 0, 0);
    },
    15,
  );
  n += rejectPool(["myOp"], BAD_LENGTHS, (ls) => R.validateLengths("myOp", ls as number[], 2, 3));
  n += rejectPool(["myOp"], BAD_COUNTS, (b) => R.validateLengths("myOp", [], b as number, 3));
  n += rejectPool(["myOp"], BAD_COUNTS, (t) => R.validateLengths("myOp", [0, 0], 2, t as number));
  return n;
};

export const stepMaskSpec: Spec = () => {
  let n = prop(
    arbLengths,
    ({ time, ls, asTensor }) => {
      const m = R.stepMask(lengthsArg(ls, asTensor) as T.Tensor, time);
      expect(m.dtype).toBe("bool");
      expectNear(
        "stepMask",
        m,
        Array.from({ length: time * ls.length }, (_, i) => (Math.floor(i / ls.length) < ls[i % ls.length]! ? 1 : 0)),
        [time, ls.length],
        0,
        0,
      );
    },
    15,
  );
  // stepMask reads the batch from the lengths, so only lengths wrong whatever the batch apply.
  n += rejectPool(
    ["stepMask"],
    BAD_LENGTHS.filter((l) => !Array.isArray(l) || l.length === 2),
    (ls) => R.stepMask(ls as T.Tensor, 3),
  );
  n += rejectPool(["stepMask"], BAD_COUNTS, (t) => R.stepMask(T.zeros([2], "int32"), t as number));
  return n;
};

export const reverseValidSpec: Spec = () => {
  let n = prop(
    arbLengths.map((r) => ({ ...r, f: 1 + (r.time % 2) })),
    ({ batch, time, ls, f }) => {
      const x = normal(batch * 7 + time, [time, batch, f]);
      const out = R.reverseValid(x, T.fromDataOrThrow(ls, [batch], "int32"));
      const src = dataOf(x);
      const want: number[] = [];
      for (let t = 0; t < time; t++)
        for (let b = 0; b < batch; b++)
          for (let j = 0; j < f; j++) want.push(src[((t < ls[b]! ? ls[b]! - 1 - t : t) * batch + b) * f + j]!);
      expectNear("reverseValid", out, want, [time, batch, f], 0, 0);
    },
    15,
  );
  const x = normal(1, [3, 2, 1]);
  n += rejectPool(["reverseValid"], BAD_LENGTHS, (ls) => R.reverseValid(x, ls as T.Tensor));
  n += rejectPool(["reverseValid"], [...NOT_TENSORS, normal(1, [3])], (xs) =>
    R.reverseValid(xs as T.Tensor, T.zeros([2], "int32")),
  );
  return n;
};
