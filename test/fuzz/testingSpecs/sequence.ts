/**
 * @file Fuzz specs of the sequence-data laws of @rewind/testing: each law holds for Rewind's
 * padSequences, unpadSequences, batches, masked losses and rnn, and fails — with a RewindError
 * naming the law — for a deliberately broken one; wrong-typed instances and options are refused.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import * as X from "@rewind/testing";
import { NOT_OPTIONS, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { expectViolation, refuseEach } from "./errors.js";

const LAW_KEYS = ["rtol", "atol", "padSequences", "unpadSequences", "batches", "rnn"] as const;

const logits = T.random.normal(T.random.key(1), [2, 3, 3], "float64");
const targets = T.fromDataOrThrow([0, 1, 2, 2, -1, -1], [2, 3], "int32");
const lossCase: X.MaskedLossCase = {
  name: "ce",
  loss: R.sequenceCrossEntropy,
  predictions: logits,
  targets,
  lengths: [3, 1],
};
const padCase: X.UnpadPadCase = { seqs: [[1, 2, 3], [4]], options: { padding: "pre" } };
const batchCase: X.BatchCoverageCase = {
  dataset: [[1], [2, 3], [4, 5, 6]],
  key: T.random.key(2),
  options: { batchSize: 2 },
};
const rnnCase: X.PaddedRnnCase = {
  cell: R.gru as R.AnyCell,
  params: R.gru.init(T.random.key(3), { inputSize: 2, hiddenSize: 2 }, { dtype: "float64" }),
  seqs: [T.random.normal(T.random.key(4), [3, 2], "float64"), T.random.normal(T.random.key(5), [1, 2], "float64")],
};

/** Broken implementations, one per law. */
const overPadded: X.MaskedLossCase["loss"] = (p, t, n) =>
  A.mul(R.sequenceCrossEntropy(p, t, n, { reduction: "sum" }), 1 / (p.shape[0]! * p.shape[1]!));
const shortPad: typeof R.padSequences = (seqs, o) =>
  R.padSequences(
    seqs.map((s) => (s as number[]).slice(0, Math.max(1, (s as number[]).length - 1))),
    o,
  );
const dropping: typeof R.batches = (k, d, o) => R.batches(k, d.slice(1), o);
const noLengths: X.RnnImpl = (cell, p, xs, o = {}) => {
  const { lengths: _l, ...rest } = o;
  return R.rnn(cell, p, xs, rest);
};

export const sequenceLawChecksSpec: Spec = () => {
  const checks = X.sequenceLawChecks;
  checks.maskedLoss(lossCase);
  checks.unpadPad(padCase);
  checks.batchCoverage(batchCase);
  checks.paddedRnn(rnnCase);
  expectViolation(/^maskedLoss law violated/, () => checks.maskedLoss({ ...lossCase, loss: overPadded }));
  expectViolation(/^unpad ∘ pad law violated/, () => checks.unpadPad(padCase, { padSequences: shortPad }));
  expectViolation(/^batchCoverage law violated/, () => checks.batchCoverage(batchCase, { batches: dropping }));
  expectViolation(/^paddedRnn law violated/, () => checks.paddedRnn(rnnCase, { rnn: noLengths }));
  let n = 8;
  n += refuseEach(
    ["sequenceLawChecks.maskedLoss"],
    [
      { ...lossCase, predictions: T.zeros([2], "float64") },
      { ...lossCase, predictions: T.zeros([2, 3, 3], "int32") },
      { ...lossCase, targets: T.zeros([3, 3], "int32") },
      { ...lossCase, lengths: [4, 1] },
      { ...lossCase, lengths: [1] },
      { ...lossCase, extraSteps: -1 },
    ],
    (c) => checks.maskedLoss(c),
  );
  n += refuseEach(
    ["sequenceLawChecks.unpadPad", "padSequences"],
    [{ seqs: null }, { seqs: [[]] }, { seqs: [[1.5]] }],
    (c) => checks.unpadPad(c as never),
  );
  n += refuseEach(
    ["sequenceLawChecks.batchCoverage", "batches"],
    [
      { ...batchCase, dataset: [] },
      { ...batchCase, key: 3 },
      { ...batchCase, options: null },
      { ...batchCase, options: { batchSize: 0 } },
    ],
    (c) => checks.batchCoverage(c as never),
  );
  n += refuseEach(
    ["sequenceLawChecks.paddedRnn"],
    [
      { ...rnnCase, seqs: [] },
      { ...rnnCase, seqs: [T.zeros([3])] },
    ],
    (c) => checks.paddedRnn(c),
  );
  for (const [law, call] of [
    ["maskedLoss", (o: object) => checks.maskedLoss(lossCase, o)],
    ["unpadPad", (o: object) => checks.unpadPad(padCase, o)],
    ["batchCoverage", (o: object) => checks.batchCoverage(batchCase, o)],
    ["paddedRnn", (o: object) => checks.paddedRnn(rnnCase, o)],
  ] as const) {
    n += refuseEach([`sequenceLawChecks.${law}`], NOT_OPTIONS, (o) => call(o as object));
    n += misspeltCases({ names: [`sequenceLawChecks.${law}`], error: T.RewindError, known: LAW_KEYS, call });
  }
  return n;
};

export const sequenceLawPropertiesSpec: Spec = () => {
  for (const dtype of ["float32", "float64"] as const) {
    const props = X.sequenceLawProperties({ dtype, maxBatch: 2, maxTime: 3 });
    fc.assert(props.maskedLoss, { numRuns: 3 });
    fc.assert(props.unpadPad, { numRuns: 3 });
    fc.assert(props.batchCoverage, { numRuns: 3 });
    fc.assert(props.paddedRnn, { numRuns: 3 });
  }
  const broken = X.sequenceLawProperties({ rnn: noLengths, maxBatch: 3, maxTime: 3 });
  const run = fc.check(broken.paddedRnn, { numRuns: 30 });
  expect(run.failed).toBe(true);
  expectViolation(/^paddedRnn law violated/, () => {
    throw run.errorInstance;
  });
  let n = 10;
  n += refuseEach(
    ["sequenceLawProperties"],
    [...NOT_OPTIONS, { dtype: "int32" }, { maxBatch: 0 }, { maxTime: 1.5 }],
    (o) => X.sequenceLawProperties(o as never),
  );
  n += misspeltCases({
    names: ["sequenceLawProperties"],
    error: T.RewindError,
    known: [...LAW_KEYS, "dtype", "maxBatch", "maxTime", "cell"],
    call: (o) => X.sequenceLawProperties(o),
  });
  return n;
};
