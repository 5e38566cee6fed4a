/**
 * @file The spec of `linearRecurrence`: random float64 recurrences (batch and time from 0, decays
 * of both signs, a per-feature decay broadcast, optional h0, lengths, reverse, time-major)
 * compared with a plain per-sample loop in JavaScript that reads each sample's valid steps in
 * order (reversed: from its last valid step); hostile arguments and options are refused. The spec
 * of `logLinearRecurrence` reads the same cases as logs and compares with the log of that loop.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import {
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
import { BAD_LENGTHS } from "./sequence.js";

/** A random recurrence: coefficients, inputs, optional h0 and lengths, direction and layout. */
export interface RecurrenceCase {
  readonly batch: number;
  readonly time: number;
  readonly f: number;
  readonly a: T.Tensor;
  readonly b: T.Tensor;
  readonly h0: T.Tensor | undefined;
  readonly lengths: number[] | undefined;
  readonly reverse: boolean;
  readonly timeMajor: boolean;
}

/**
 * Random float64 recurrences: batch 0–3, time 0–`maxTime`, decays of both signs (sometimes one per
 * feature, broadcast), optional h0 and lengths, either direction and layout.
 */
export const arbRecurrence = (maxTime: number, minBatch = 0): fc.Arbitrary<RecurrenceCase> =>
  fc
    .record({
      batch: fc.integer({ min: minBatch, max: 3 }),
      time: fc.integer({ min: 0, max: maxTime }),
      f: fc.integer({ min: 1, max: 2 }),
      seed: fc.integer({ min: 0, max: 1e6 }),
      perFeature: fc.boolean(),
      withH0: fc.boolean(),
      reverse: fc.boolean(),
      timeMajor: fc.boolean(),
      cuts: fc.option(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { nil: undefined }),
    })
    .map((r) => {
      const shape = r.timeMajor ? [r.time, r.batch, r.f] : [r.batch, r.time, r.f];
      return {
        ...r,
        a: T.random.uniform(T.random.key(r.seed), r.perFeature ? [r.f] : shape, {
          min: -1.2,
          max: 1.2,
          dtype: "float64",
        }),
        b: normal(r.seed + 1, shape),
        h0: r.withH0 ? normal(r.seed + 2, [r.batch, r.f]) : undefined,
        lengths: r.cuts?.slice(0, r.batch).map((c) => c % (r.time + 1)),
      };
    });

/** Element [batch s, step t, feature j] of a tensor in the case's layout (a: maybe [f] only). */
const at = (c: RecurrenceCase, x: T.Tensor, s: number, t: number, j: number): number =>
  x.shape.length === 1 ? x.data[j]! : x.data[(c.timeMajor ? t * c.batch + s : s * c.time + t) * c.f + j]!;

/** The reference: per sample, the valid steps in processing order, h = a h + b. */
const reference = (c: RecurrenceCase): { outputs: number[]; final: number[] } => {
  const outputs = new Array<number>(c.batch * c.time * c.f).fill(0);
  const final: number[] = [];
  for (let s = 0; s < c.batch; s++) {
    const len = c.lengths?.[s] ?? c.time;
    for (let j = 0; j < c.f; j++) {
      let h = c.h0 === undefined ? 0 : c.h0.data[s * c.f + j]!;
      for (let k = 0; k < len; k++) {
        const t = c.reverse ? len - 1 - k : k;
        h = at(c, c.a, s, t, j) * h + at(c, c.b, s, t, j);
        outputs[(c.timeMajor ? t * c.batch + s : s * c.time + t) * c.f + j] = h;
      }
      final.push(h);
    }
  }
  return { outputs, final };
};

export const linearRecurrenceSpec: Spec = () => {
  let n = prop(
    arbRecurrence(9),
    (c) => {
      const got = R.linearRecurrence(c.a, c.b, c.h0, {
        reverse: c.reverse,
        timeMajor: c.timeMajor,
        ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
      });
      const want = reference(c);
      expectNear("linearRecurrence outputs", got.outputs, want.outputs, c.b.shape, 1e-10, 1e-12);
      expectNear("linearRecurrence finalCarry", got.finalCarry, want.final, [c.batch, c.f], 1e-10, 1e-12);
    },
    40,
  );
  const b = normal(1, [2, 3, 2]);
  const run = (o: unknown) => R.linearRecurrence(b, b, undefined, o as R.LinearRecurrenceOptions);
  n += rejectPool(["linearRecurrence"], NOT_TENSORS, (x) => R.linearRecurrence(x as T.Tensor, b));
  n += rejectPool(["linearRecurrence"], NOT_TENSORS, (x) => R.linearRecurrence(b, x as T.Tensor));
  n += rejectPool(
    ["linearRecurrence"],
    NOT_TENSORS.filter((x) => x !== undefined),
    (x) => R.linearRecurrence(b, b, x as T.Tensor),
  );
  n += rejectEach(["linearRecurrence"], {
    "b of rank 1": () => R.linearRecurrence(normal(2, [3]), normal(2, [3])),
    "a that does not broadcast": () => R.linearRecurrence(normal(2, [3]), b),
    "a longer than b": () => R.linearRecurrence(normal(2, [1, 2, 3, 2]), b),
    "float32 a": () => R.linearRecurrence(T.astype(b, "float32"), b),
    "int32 a and b": () => R.linearRecurrence(T.zeros([2, 3, 2], "int32"), T.zeros([2, 3, 2], "int32")),
    "h0 with the time axis": () => R.linearRecurrence(b, b, b),
    "h0 float32": () => R.linearRecurrence(b, b, T.zeros([2, 2], "float32")),
  });
  n += rejectPool(["linearRecurrence"], BAD_LENGTHS, (l) => run({ lengths: l }));
  n += rejectPool(["linearRecurrence"], NOT_OPTIONS, run);
  n += rejectPool(["linearRecurrence"], NOT_FLAGS, (v) => run({ reverse: v }));
  n += rejectPool(["linearRecurrence"], NOT_FLAGS, (v) => run({ timeMajor: v }));
  n += misspeltCases({
    names: ["linearRecurrence"],
    error: T.TensorException,
    known: ["lengths", "reverse", "timeMajor"],
    call: (o) => run(o),
  });
  return n;
};

/** The case read as logs: a, b and h0 are log a, log b and log h0 (so every coefficient is positive). */
const exponentiated = (c: RecurrenceCase): RecurrenceCase => ({
  ...c,
  a: T.exp(c.a),
  b: T.exp(c.b),
  h0: c.h0 === undefined ? undefined : T.exp(c.h0),
});

export const logLinearRecurrenceSpec: Spec = () => {
  // The same random recurrences with a, b, h0 read as logs; the reference is the log of the plain
  // loop on their exps (log 0 = −∞ past each length, and for a length-0 sample without h0).
  let n = prop(
    arbRecurrence(9),
    (c) => {
      const got = R.logLinearRecurrence(c.a, c.b, c.h0, {
        reverse: c.reverse,
        timeMajor: c.timeMajor,
        ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
      });
      const want = reference(exponentiated(c));
      expectNear("logLinearRecurrence outputs", got.outputs, want.outputs.map(Math.log), c.b.shape, 1e-10, 1e-12);
      expectNear(
        "logLinearRecurrence finalCarry",
        got.finalCarry,
        want.final.map(Math.log),
        [c.batch, c.f],
        1e-10,
        1e-12,
      );
    },
    40,
  );
  const b = normal(1, [2, 3, 2]);
  const run = (o: unknown) => R.logLinearRecurrence(b, b, undefined, o as R.LinearRecurrenceOptions);
  n += rejectPool(["logLinearRecurrence"], NOT_TENSORS, (x) => R.logLinearRecurrence(x as T.Tensor, b));
  n += rejectPool(["logLinearRecurrence"], NOT_TENSORS, (x) => R.logLinearRecurrence(b, x as T.Tensor));
  n += rejectPool(
    ["logLinearRecurrence"],
    NOT_TENSORS.filter((x) => x !== undefined),
    (x) => R.logLinearRecurrence(b, b, x as T.Tensor),
  );
  n += rejectEach(["logLinearRecurrence"], {
    "logB of rank 1": () => R.logLinearRecurrence(normal(2, [3]), normal(2, [3])),
    "logA that does not broadcast": () => R.logLinearRecurrence(normal(2, [3]), b),
    "float32 logA": () => R.logLinearRecurrence(T.astype(b, "float32"), b),
    "int32 logA and logB": () => R.logLinearRecurrence(T.zeros([2, 3, 2], "int32"), T.zeros([2, 3, 2], "int32")),
    "logH0 with the time axis": () => R.logLinearRecurrence(b, b, b),
    "logH0 float32": () => R.logLinearRecurrence(b, b, T.zeros([2, 2], "float32")),
  });
  n += rejectPool(["logLinearRecurrence"], BAD_LENGTHS, (l) => run({ lengths: l }));
  n += rejectPool(["logLinearRecurrence"], NOT_OPTIONS, run);
  n += rejectPool(["logLinearRecurrence"], NOT_FLAGS, (v) => run({ reverse: v }));
  n += rejectPool(["logLinearRecurrence"], NOT_FLAGS, (v) => run({ timeMajor: v }));
  n += misspeltCases({
    names: ["logLinearRecurrence"],
    error: T.TensorException,
    known: ["lengths", "reverse", "timeMajor"],
    call: (o) => run(o),
  });
  return n;
};
