/**
 * @file Fuzz specs of truncated BPTT: `chunkSequence` (the chunks concatenate back to the
 * sequence), `chunkLengths` (each chunk's count of valid steps), `tbpttStep` (loss and carry
 * against the float64 reference) and `tbpttGrads` (equal to the gradient under `rnn`'s
 * `truncate: k`, as documented); chunk sizes 0, negative or fractional are refused.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import {
  BAD_SIZES,
  dataOf,
  expectNear,
  normal,
  NOT_OPTIONS,
  prop,
  rejectEach,
  rejectPool,
  type Spec,
} from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { hasCellState, REFERENCE_STEPS, referenceSequence, rowAt, type State } from "./reference.js";
import { CELLS } from "./sequence.js";

const dims = fc.record({
  batch: fc.integer({ min: 0, max: 3 }),
  time: fc.integer({ min: 0, max: 7 }),
  k: fc.integer({ min: 1, max: 4 }),
  seed: fc.nat({ max: 1000 }),
  timeMajor: fc.boolean(),
});

export const chunkSequenceSpec: Spec = () => {
  let n = prop(
    dims,
    ({ batch, time, k, seed, timeMajor }) => {
      const axis = timeMajor ? 0 : 1;
      const x = normal(seed, timeMajor ? [time, batch, 2] : [batch, time, 2]);
      const y = normal(seed + 1, timeMajor ? [time, batch] : [batch, time]);
      const chunks = R.chunkSequence({ x, y }, k, { timeMajor });
      expect(chunks.length).toBe(Math.ceil(time / k));
      chunks.forEach((c, j) => expect(c.x.shape[axis]).toBe(Math.min(k, time - j * k)));
      if (chunks.length > 0) {
        expectNear(
          "chunks of x",
          A.concat(
            chunks.map((c) => c.x),
            axis,
          ),
          dataOf(x),
          x.shape,
          0,
          0,
        );
        expectNear(
          "chunks of y",
          A.concat(
            chunks.map((c) => c.y),
            axis,
          ),
          dataOf(y),
          y.shape,
          0,
          0,
        );
      }
    },
    15,
  );
  const x = normal(1, [2, 5, 1]);
  n += rejectPool(["chunkSequence"], BAD_SIZES, (k) => R.chunkSequence(x, k as number));
  n += rejectPool(["chunkSequence"], [{}, null, [], 5, { a: x, b: normal(1, [2, 4, 1]) }, normal(1, [5])], (xs) =>
    R.chunkSequence(xs, 2),
  );
  n += rejectPool(["chunkSequence"], [...NOT_OPTIONS, { timeMajor: "yes" }], (o) => R.chunkSequence(x, 2, o as never));
  n += misspeltCases({
    names: ["chunkSequence"],
    error: T.TensorException,
    known: ["timeMajor"],
    base: { timeMajor: true },
    call: (o) => R.chunkSequence(x, 2, o),
  });
  return n;
};

export const chunkLengthsSpec: Spec = () => {
  let n = prop(
    dims.chain((d) =>
      fc
        .array(fc.integer({ min: 0, max: d.time }), { minLength: d.batch, maxLength: d.batch })
        .map((ls) => ({ ...d, ls })),
    ),
    ({ time, k, ls }) => {
      const chunks = R.chunkLengths(ls, time, k);
      expect(chunks.length).toBe(Math.ceil(time / k));
      chunks.forEach((c, j) => {
        // Valid steps of each sample that fall inside chunk j, counted one by one.
        const want = ls.map(
          (len) =>
            Array.from({ length: time }, (_, t) => t).filter((t) => t >= j * k && t < (j + 1) * k && t < len).length,
        );
        expectNear(`chunkLengths[${j}]`, c, want, [ls.length], 0, 0);
      });
    },
    15,
  );
  n += rejectPool(["chunkLengths"], BAD_SIZES, (k) => R.chunkLengths([1, 2], 3, k as number));
  n += rejectPool(["chunkLengths"], [-1, 1.5, NaN, "3"], (time) => R.chunkLengths([1, 2], time as number, 2));
  n += rejectPool(["chunkLengths"], [[4, 1], [-1, 0], [1.5, 0], null, "ab", T.zeros([2], "float32")], (ls) =>
    R.chunkLengths(ls as number[], 3, 2),
  );
  return n;
};

type Params = Record<string, T.Tensor>;
const zeroCarry = (cell: R.AnyCell, p: unknown, batch: number): unknown => cell.initialCarry(batch, p);
const sumLoss =
  (cell: R.AnyCell) =>
  (p: unknown, c: unknown, x: A.Value): readonly [A.Value, unknown] => {
    const r = R.rnn(cell, p, x, { initialCarry: c });
    return [A.sum(r.outputs), r.finalCarry];
  };
const arbChunk = fc.record({
  cell: fc.constantFrom(...CELLS),
  batch: fc.integer({ min: 1, max: 2 }),
  time: fc.integer({ min: 1, max: 5 }),
  k: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat({ max: 1000 }),
});

export const tbpttStepSpec: Spec = () => {
  let n = prop(
    arbChunk,
    ({ cell, batch, time, seed }) => {
      const p = cell.init(T.random.key(seed), { inputSize: 2, hiddenSize: 2 }, { dtype: "float64" }) as Params;
      const xs = normal(seed + 1, [batch, time, 2]);
      const r = R.tbpttStep(sumLoss(cell), p, zeroCarry(cell, p, batch), xs);
      const zero = (): State => (hasCellState(cell.name) ? { h: [0, 0], c: [0, 0] } : { h: [0, 0] });
      const refs = Array.from({ length: batch }, (_, b) =>
        referenceSequence(
          REFERENCE_STEPS[cell.name]!,
          p,
          zero(),
          Array.from({ length: time }, (_, t) => rowAt(xs, b, t, false)),
          time,
          false,
        ),
      );
      expectNear(
        "tbpttStep loss",
        r.loss,
        [refs.reduce((s, ref) => s + ref.outputs.flat().reduce((a, v) => a + v, 0), 0)],
        [],
        1e-9,
        1e-12,
      );
      const h = hasCellState(cell.name) ? (r.carry as { h: T.Tensor }).h : r.carry;
      expectNear(
        "tbpttStep carry",
        h,
        refs.flatMap((ref) => ref.final.h),
        [batch, 2],
      );
      expect(Object.keys(r.grads as object).sort()).toEqual(Object.keys(p).sort());
    },
    10,
  );
  const p = R.gru.init(T.random.key(0), { inputSize: 2, hiddenSize: 2 }, { dtype: "float64" });
  const c0 = R.gru.initialCarry(2, p);
  n += rejectEach(["tbpttStep", "grad", "valueAndGrad"], {
    "loss 5": () => R.tbpttStep(5 as never, p, c0, normal(1, [2, 3, 2])),
    "a loss returning a number": () => R.tbpttStep((() => [5, c0]) as never, p, c0, normal(1, [2, 3, 2])),
    "a non-scalar loss": () =>
      R.tbpttStep(((_q: unknown, c: unknown, x: A.Value) => [x, c]) as never, p, c0, normal(1, [2, 3, 2])),
  });
  return n;
};

export const tbpttGradsSpec: Spec = () => {
  let n = prop(
    arbChunk,
    ({ cell, batch, time, k, seed }) => {
      const p = cell.init(T.random.key(seed), { inputSize: 2, hiddenSize: 2 }, { dtype: "float64" }) as Params;
      const xs = normal(seed + 1, [batch, time, 2]);
      const r = R.tbpttGrads(sumLoss(cell), p, zeroCarry(cell, p, batch), R.chunkSequence(xs, k));
      // Documented: for a loss summed over steps, the gradient of the whole sequence under truncate: k.
      const g = A.grad((q: Params) => A.sum(R.rnn(cell, q, xs, { truncate: k }).outputs))(p);
      for (const [name, v] of Object.entries(g))
        expectNear(`tbpttGrads ${name}`, r.grads[name], dataOf(v), v.shape, 1e-9, 1e-12);
    },
    10,
  );
  const p = R.gru.init(T.random.key(0), { inputSize: 2, hiddenSize: 2 }, { dtype: "float64" });
  n += rejectPool(["tbpttGrads"], [[], null, 5, "chunks"], (chunks) =>
    R.tbpttGrads(sumLoss(R.gru), p, R.gru.initialCarry(2, p), chunks as never),
  );
  return n;
};
