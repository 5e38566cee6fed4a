/**
 * The sequence-data laws (issue 22) hold for Rewind's padSequences, unpadSequences, batches,
 * masked losses and rnn, as fast-check properties in float32 and float64 — and each FAILS on a
 * deliberately broken implementation (a loss averaged over the padded length, masking by
 * multiplication, a pad that loses a step, batches that drop or repeat a sample or ignore the
 * key, an rnn that ignores lengths), with a message naming the law and the instance.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { batches, gru, lstm, padSequences, rnn, sequenceCrossEntropy, sequenceMask, type AnyCell } from "@rewind/rnn";
import { sequenceLawChecks, sequenceLawProperties, type MaskedLossCase, type RnnImpl } from "@rewind/testing";

const runs = { numRuns: 30 };

describe.each(["float32", "float64"] as const)("the sequence laws hold in %s", (dtype) => {
  const props = sequenceLawProperties({ dtype });
  it("maskedLoss: built-in masked losses ignore padding values and extra padding (gradients too)", () =>
    fc.assert(props.maskedLoss, runs));
  it("unpadPad: unpad(pad(x)) = x for ids, vectors and tensors, both sides, with truncation", () =>
    fc.assert(props.unpadPad, runs));
  it("batchCoverage: every sample exactly once per epoch, same key same batches, true padding fractions", () =>
    fc.assert(props.batchCoverage, runs));
  it("paddedRnn: a padded batch through rnn with lengths equals each sample alone", () =>
    fc.assert(props.paddedRnn, { numRuns: 10 }));
  it("paddedRnn with an LSTM (a carry of two leaves)", () =>
    fc.assert(sequenceLawProperties({ dtype, cell: lstm as AnyCell, maxTime: 4 }).paddedRnn, { numRuns: 5 }));
});

/** The message of the law violation `thunk` throws. */
const violated = (thunk: () => void): string => {
  try {
    thunk();
  } catch (e) {
    expect(e).toBeInstanceOf(T.RewindError);
    expect((e as T.RewindError).error._tag).toBe("TestFailure");
    return (e as Error).message;
  }
  throw new Error("expected the law to be violated, but it held");
};

describe("each law fails on a broken implementation", () => {
  const logits = T.random.normal(T.random.key(1), [2, 4, 3], "float64");
  const targets = T.fromDataOrThrow([0, 1, 2, 0, 1, 0, 0, 0], [2, 4], "int32");
  const base: MaskedLossCase = {
    name: "ce",
    loss: sequenceCrossEntropy,
    predictions: logits,
    targets,
    lengths: [4, 2],
  };

  it("maskedLoss: Rewind's cross-entropy passes; a mean over the padded length B·T fails", () => {
    sequenceLawChecks.maskedLoss(base);
    const overPadded = (p: A.Value, t: A.Value, n: A.Value) =>
      A.mul(sequenceCrossEntropy(p, t, n, { reduction: "sum" }), 1 / (p.shape[0]! * p.shape[1]!));
    expect(violated(() => sequenceLawChecks.maskedLoss({ ...base, name: "over B·T", loss: overPadded }))).toMatch(
      /^maskedLoss law violated for over B·T on float64\[2, 4, 3\], lengths \[4, 2\]:\n {2}2 more padded steps vs the case's/,
    );
  });
  it("maskedLoss: a mask multiplied in (x · m) fails on NaN padding, and passes with finite padding", () => {
    const mulMasked = (p: A.Value, _t: A.Value, n: A.Value) =>
      A.sum(A.mul(p, A.astype(A.expandDims(sequenceMask(n, p.shape[1]!), -1), "float64")));
    const c = { ...base, name: "x·m", loss: mulMasked };
    expect(violated(() => sequenceLawChecks.maskedLoss(c))).toMatch(/other padding values vs the case's/);
    sequenceLawChecks.maskedLoss({ ...c, finitePadding: true });
  });
  it("maskedLoss: a loss whose gradient reaches padding fails", () => {
    const leaky = (p: A.Value, t: A.Value, n: A.Value) => A.add(sequenceCrossEntropy(p, t, n), A.mul(A.sum(p), 1e-3));
    expect(violated(() => sequenceLawChecks.maskedLoss({ ...base, name: "leaky", loss: leaky }))).toMatch(
      /the gradient of sample 1 on its padding \(steps 2\.\.\) must be exactly zero/,
    );
  });
  it("unpadPad: a pad that drops each sequence's last step fails", () => {
    const c = {
      seqs: [
        [1, 2, 3],
        [4, 5],
      ],
      options: { maxLength: 4 },
    };
    sequenceLawChecks.unpadPad(c);
    const lossy: typeof padSequences = (seqs, o) =>
      padSequences(
        seqs.map((s) => (s as number[]).slice(0, -1)),
        o,
      );
    expect(violated(() => sequenceLawChecks.unpadPad(c, { padSequences: lossy }))).toMatch(
      /^unpad ∘ pad law violated for 2 sequences padded with \{"maxLength":4\}:\n {2}sequence 0 after unpad ∘ pad vs the sequence itself/,
    );
  });
  it("unpadPad and batchCoverage: truncation the options did not ask for fails (no maxLength to hide behind)", () => {
    const lossy: typeof padSequences = (seqs, o) =>
      padSequences(
        seqs.map((s) => (s as number[]).slice(0, 2)),
        o,
      );
    expect(violated(() => sequenceLawChecks.unpadPad({ seqs: [[1, 2, 3], [4]] }, { padSequences: lossy }))).toMatch(
      /the batch has 2 steps; maxLength or the longest sequence says 3/,
    );
    const cutting: typeof batches = (k, d, o) => batches(k, d, { ...o, maxLength: 2, truncating: "post" });
    const c = { dataset: [[1, 2, 3], [4]], key: T.random.key(0), options: { batchSize: 2 } };
    expect(violated(() => sequenceLawChecks.batchCoverage(c, { batches: cutting }))).toMatch(
      /row \d of batch 0 vs sample 0/,
    );
  });
  it("batchCoverage: batches that drop a sample, repeat one, or depend on more than the key fail", () => {
    const dataset = [[1], [2, 3], [4, 5, 6], [7], [8, 9]];
    const c = { dataset, key: T.random.key(3), options: { batchSize: 2 } };
    sequenceLawChecks.batchCoverage(c);
    const dropping: typeof batches = (k, d, o) => batches(k, d.slice(1), o);
    expect(violated(() => sequenceLawChecks.batchCoverage(c, { batches: dropping }))).toMatch(
      /1 samples \(first: \d\) are in no batch|row \d of batch \d vs sample/,
    );
    let calls = 0;
    const restless: typeof batches = (k, d, o) => batches(T.random.foldIn(k, calls++), d, o);
    expect(violated(() => sequenceLawChecks.batchCoverage(c, { batches: restless }))).toMatch(
      /a second call with the same key gave other batches/,
    );
    const repeating: typeof batches = (k, d, o) => batches(k, [...d, d[0]!], o);
    expect(violated(() => sequenceLawChecks.batchCoverage(c, { batches: repeating }))).toMatch(
      /a batch holds the index 5, which is no sample of 5/,
    );
  });
  it("paddedRnn: an rnn that ignores lengths fails; Rewind's passes", () => {
    const params = gru.init(T.random.key(0), { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
    const seqs = [
      T.random.normal(T.random.key(1), [3, 2], "float64"),
      T.random.normal(T.random.key(2), [1, 2], "float64"),
    ];
    const c = { cell: gru as AnyCell, params, seqs };
    sequenceLawChecks.paddedRnn(c);
    const noLengths: RnnImpl = (cell, p, xs, o = {}) => {
      const { lengths: _ignored, ...rest } = o;
      return rnn(cell, p, xs, rest);
    };
    expect(violated(() => sequenceLawChecks.paddedRnn(c, { rnn: noLengths }))).toMatch(
      /^paddedRnn law violated for gru on 2 float64 sequences of lengths \[3, 1\]:\n {2}sample 1 in the padded batch vs alone: finalCarry/,
    );
  });
});

describe("the law entry points refuse bad arguments", () => {
  it("names the law and the argument", () => {
    const bad = (thunk: () => unknown, re: RegExp) => expect(thunk).toThrow(re);
    bad(
      () => sequenceLawProperties({ dtype: "int32" as never }),
      /sequenceLawProperties: argument `o\.dtype` must be "float32" or "float64"/,
    );
    bad(() => sequenceLawProperties({ maxTme: 3 } as never), /did you mean "maxTime"/);
    bad(
      () =>
        sequenceLawChecks.maskedLoss({
          name: "x",
          loss: sequenceCrossEntropy,
          predictions: T.zeros([2, 3, 2]),
          targets: T.zeros([2, 3], "int32"),
          lengths: [4, 1],
        }),
      /sequenceLawChecks\.maskedLoss: argument `c\.lengths` must be 2 integers in \[0, 3\]/,
    );
    bad(
      () => sequenceLawChecks.paddedRnn({ cell: gru as AnyCell, params: {}, seqs: [] }),
      /argument `c\.seqs` must be a non-empty array/,
    );
    bad(
      () => sequenceLawChecks.batchCoverage({ dataset: [], key: T.random.key(0), options: { batchSize: 1 } }),
      /argument `c\.dataset`/,
    );
  });
});
