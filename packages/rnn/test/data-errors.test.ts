/**
 * @file Bad input to the sequence-data utilities (issue 22): each refusal is a TensorException
 * naming the op, the argument (down to the sample, `seqs[2]`, `dataset[3].inputs`), the sample
 * index, what arrived and what to change.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  batches,
  maskedMean,
  maskedSum,
  padSequences,
  sequenceCrossEntropy,
  sequenceMask,
  sequenceMse,
  unpadSequences,
} from "@rewind/rnn";
import { refusal } from "./extra-helpers.js";

/** Expects a refusal by `op` about `arg` whose message matches every pattern. */
const expectRefusal = (thunk: () => unknown, op: string, arg: string, ...patterns: RegExp[]): void => {
  const e = refusal(thunk);
  expect(e.error.op).toBe(op);
  expect(e.error.arg).toBe(arg);
  expect(e.message.startsWith(`${op}: `)).toBe(true);
  for (const p of patterns) expect(e.message).toMatch(p);
};

describe("padSequences refuses, naming the sample", () => {
  it("an empty sequence, unless allowEmpty", () =>
    expectRefusal(
      () => padSequences([[1, 2], [3], []]),
      "padSequences",
      "seqs[2]",
      /sample 2 is empty \(0 steps\)/,
      /pass allowEmpty: true/,
    ));
  it("no sequences at all, or not an array", () => {
    expectRefusal(() => padSequences([]), "padSequences", "seqs", /seqs is empty/);
    expectRefusal(() => padSequences("abc" as never), "padSequences", "seqs", /must be an array/);
  });
  it("a sequence longer than maxLength without truncating (never truncated silently)", () =>
    expectRefusal(
      () => padSequences([[1], [1, 2, 3, 4]], { maxLength: 3 }),
      "padSequences",
      "seqs[1]",
      /sample 1 has 4 steps, more than maxLength 3; padSequences never truncates silently/,
      /pass truncating: "post" \(keep the first 3 steps\) or "pre" \(keep the last 3\), raise maxLength to 4/,
    ));
  it("mixed feature sizes: between samples, and between the steps of one sample", () => {
    expectRefusal(
      () => padSequences([[[1, 2]], [[1, 2]], [[1, 2, 3]]]),
      "padSequences",
      "seqs[2]",
      /sample 2 has steps of shape \[3\] but sample 0 has \[2\]/,
      /same features per step/,
    );
    expectRefusal(
      () => padSequences([[[1, 2], [3]]]),
      "padSequences",
      "seqs[0]",
      /step 1 of sample 0 is a vector of 1 features, but steps have 2 features/,
    );
    expectRefusal(
      () => padSequences([T.zeros([2, 3]), T.zeros([1, 4])]),
      "padSequences",
      "seqs[1]",
      /sample 1 has steps of shape \[4\] but sample 0 has \[3\]/,
    );
  });
  it("mixed dtypes among tensors, with the dtype option as the way out", () => {
    const e = refusal(() => padSequences([T.zeros([2], "float32"), T.zeros([1], "float32"), T.zeros([1], "float64")]));
    expect(e.error).toMatchObject({ _tag: "DTypeError", op: "padSequences", arg: "seqs[2]" });
    expect(e.message).toMatch(/sample 2 is float64 but sample 0 is float32 \(mixed dtypes\)/);
    expect(e.message).toMatch(/pass dtype: "float32" to convert every sample/);
  });
  it("mixed forms: ids and tensors, ids and vectors", () => {
    expectRefusal(
      () => padSequences([[1, 2], T.zeros([2], "int32")] as never),
      "padSequences",
      "seqs[1]",
      /sample 1 is a tensor but sample 0 is an array of numbers \(token ids\)/,
    );
    expectRefusal(
      () => padSequences([[[1]], [2]] as never),
      "padSequences",
      "seqs[1]",
      /sample 1 is an array of numbers \(token ids\) but sample 0 is an array of feature vectors/,
    );
  });
  it("non-integer token ids, with dtype float32 as the way out for real values", () => {
    expectRefusal(
      () =>
        padSequences([
          [1, 2],
          [3, 4.5],
        ]),
      "padSequences",
      "seqs[1]",
      /step 1 of sample 1 is 4\.5, not an integer/,
      /pass dtype: "float32"/,
    );
    expectRefusal(
      () => padSequences([T.fromDataOrThrow([1, 2.5], [2], "float64")], { dtype: "int32" }),
      "padSequences",
      "seqs[0]",
      /sample 0 \(float64\) converted to int32: element 0 of step 1 is 2\.5, not an integer/,
    );
    expectRefusal(() => padSequences([[1, 2 ** 40]]), "padSequences", "seqs[0]", /outside the int32 range/);
  });
  it("values that are not numbers, samples that are not sequences, rank-0 and traced tensors", () => {
    expectRefusal(() => padSequences([[1, "2"]] as never), "padSequences", "seqs[0]", /step 1 of sample 0 is "2"/);
    expectRefusal(
      () => padSequences([[[1, NaN, null]]] as never, { dtype: "float64" }),
      "padSequences",
      "seqs[0]",
      /feature 2 of step 0 of sample 0 is null/,
    );
    expectRefusal(() => padSequences([[1], 5] as never), "padSequences", "seqs[1]", /sample 1 is 5; a sequence is/);
    expectRefusal(
      () => padSequences([T.scalar(1)]),
      "padSequences",
      "seqs[0]",
      /rank-0 tensor; a sequence needs a time axis/,
    );
    const e = refusal(() => A.grad((x: A.Value) => A.sum(padSequences([x as T.Tensor]).xs))(T.zeros([2])));
    expect(e.message).toMatch(/sample 0 is a traced value; padSequences prepares concrete data/);
  });
  it("a padValue the dtype cannot hold, and misspelt or wrong-typed options", () => {
    expectRefusal(
      () => padSequences([[1]], { padValue: 0.5 }),
      "padSequences",
      "options.padValue",
      /cannot fill a int32 tensor/,
    );
    expectRefusal(
      () => padSequences([[1]], { truncate: "post" } as never),
      "padSequences",
      "options.truncate",
      /did you mean "truncating"/,
    );
    expectRefusal(
      () => padSequences([[1]], { padding: "left" as never }),
      "padSequences",
      "options.padding",
      /one of "pre", "post"/,
    );
    expectRefusal(() => padSequences([[1]], { maxLength: 0 }), "padSequences", "options.maxLength", /an integer ≥ 1/);
  });
});

describe("unpadSequences, masks and reductions refuse", () => {
  const xs = T.zeros([2, 3, 1], "float64");
  it("traced lengths (the result's shapes depend on them), a ys without time axis, bad lengths", () => {
    expectRefusal(
      () => A.jit((l: A.Value) => A.sum(unpadSequences(xs, l)[0]!))(T.fromDataOrThrow([1, 1], [2], "int32")),
      "unpadSequences",
      "lengths",
      /lengths is a traced value/,
    );
    expectRefusal(
      () => unpadSequences(T.zeros([3]), [1, 1, 1]),
      "unpadSequences",
      "ys",
      /batch-major \[batch, time, \.\.\.\]/,
    );
    expectRefusal(
      () => unpadSequences(xs, [4, 1]),
      "unpadSequences",
      "lengths",
      /lengths\[0\] = 4 is outside \[0, 3\]/,
    );
  });
  it("a mask of the wrong shape, lengths beyond T, an unknown `per`", () => {
    expectRefusal(
      () => maskedSum(xs, T.zeros([2, 4], "bool")),
      "maskedSum",
      "lengths",
      /a bool mask must have shape \[2, 3\]/,
    );
    expectRefusal(() => maskedMean(xs, [1, 5]), "maskedMean", "lengths", /lengths\[1\] = 5 is outside \[0, 3\]/);
    expectRefusal(
      () => maskedMean(xs, [1, 1], { per: "time" as never }),
      "maskedMean",
      "options.per",
      /one of "sample", "batch"/,
    );
    expectRefusal(() => maskedMean(T.zeros([2]), [1, 1]), "maskedMean", "x", /batch-major values/);
    expectRefusal(() => sequenceMask([1.5], 3), "sequenceMask", "lengths", /lengths\[0\] = 1\.5 is not an integer/);
  });
});

describe("sequence losses refuse", () => {
  const logits = T.zeros([2, 3, 4], "float64");
  const targets = T.fromDataOrThrow([1, 2, 3, 0, -1, -1], [2, 3], "int32");
  it("a target outside the classes at a valid position, naming the sample and the step", () => {
    const bad = T.fromDataOrThrow([1, 2, 3, 0, 7, -1], [2, 3], "int32");
    expectRefusal(
      () => sequenceCrossEntropy(logits, bad, [3, 2]),
      "sequenceCrossEntropy",
      "targets",
      /targets\[1\]\[1\] = 7 \(sample 1, step 1\) is outside \[0, 4\)/,
      /ignoreIndex or a shorter length/,
    );
    // The same id on a padded step is fine.
    expect(() => sequenceCrossEntropy(logits, bad, [3, 1])).not.toThrow();
  });
  it("float targets, targets of another shape, logits without classes", () => {
    expectRefusal(
      () => sequenceCrossEntropy(logits, T.zeros([2, 3]), [3, 1]),
      "sequenceCrossEntropy",
      "targets",
      /must be int32 class ids, got float32/,
    );
    expectRefusal(
      () => sequenceCrossEntropy(logits, T.zeros([3, 2], "int32"), [3, 1]),
      "sequenceCrossEntropy",
      "targets",
      /must have shape \[2, 3\]/,
    );
    expectRefusal(
      () => sequenceCrossEntropy(T.zeros([2, 3]), targets, [3, 1]),
      "sequenceCrossEntropy",
      "logits",
      /float \[batch, time, classes\]/,
    );
  });
  it("label smoothing outside [0, 1], a fractional ignoreIndex, an unknown reduction", () => {
    expectRefusal(
      () => sequenceCrossEntropy(logits, targets, [3, 1], { labelSmoothing: 1.5 }),
      "sequenceCrossEntropy",
      "options.labelSmoothing",
      /a number in \[0, 1\]/,
    );
    expectRefusal(
      () => sequenceCrossEntropy(logits, targets, [3, 1], { ignoreIndex: 0.5 }),
      "sequenceCrossEntropy",
      "options.ignoreIndex",
      /an integer/,
    );
    expectRefusal(
      () => sequenceMse(logits, logits, [3, 1], { reduction: "avg" as never }),
      "sequenceMse",
      "options.reduction",
      /one of "mean", "sum", "none"/,
    );
  });
  it("sequenceMse: mixed dtypes, shapes that differ", () => {
    const e = refusal(() => sequenceMse(logits, T.zeros([2, 3, 4]), [3, 1]));
    expect(e.error).toMatchObject({ _tag: "DTypeError", op: "sequenceMse", arg: "targets" });
    expectRefusal(
      () => sequenceMse(logits, T.zeros([2, 3, 5], "float64"), [3, 1]),
      "sequenceMse",
      "targets",
      /must have the predictions' shape \[2, 3, 4\]/,
    );
  });
});

describe("batches refuses, naming the sample and the field", () => {
  const recs = [
    { inputs: [1, 2], label: 0 },
    { inputs: [3], label: 1 },
    { inputs: [4, 5, 6, 7, 8, 9], label: 0 },
  ];
  const key = T.random.key(0);
  it("a sample longer than the last bucket, unless truncating", () => {
    expectRefusal(
      () => batches(key, recs, { batchSize: 2, buckets: [2, 4] }),
      "batches",
      "dataset[2].inputs",
      /sample 2 has 6 steps, more than the last bucket's bound 4 \(options\.buckets \[2,4\]\); batches never truncates silently/,
      /add a bucket ≥ 6/,
    );
    expect(batches(key, recs, { batchSize: 2, buckets: [2, 4], truncating: "post" }).length).toBe(2);
  });
  it("lengths beyond maxLength", () =>
    expectRefusal(
      () => batches(key, recs, { batchSize: 2, maxLength: 5 }),
      "batches",
      "dataset[2].inputs",
      /more than maxLength 5/,
      /raise maxLength to 6/,
    ));
  it("records with missing or extra fields, or of another kind than sample 0", () => {
    expectRefusal(
      () => batches(key, [...recs, { inputs: [1] }] as never, { batchSize: 2 }),
      "batches",
      "dataset[3]",
      /sample 3 has no field "label"/,
    );
    expectRefusal(
      () => batches(key, [...recs, { inputs: [1], label: 1, w: 2 }] as never, { batchSize: 2 }),
      "batches",
      "dataset[3]",
      /sample 3 has a field "w" that sample 0 lacks/,
    );
    expectRefusal(
      () => batches(key, [...recs, [1, 2]] as never, { batchSize: 2 }),
      "batches",
      "dataset[3]",
      /sample 3 is an array but sample 0 is a record/,
    );
  });
  it("a bad value in a field: an empty sequence, a non-integer id, a label that is not a number", () => {
    expectRefusal(
      () => batches(key, [...recs, { inputs: [], label: 1 }], { batchSize: 2 }),
      "batches",
      "dataset[3].inputs",
      /sample 3 is empty/,
    );
    expectRefusal(
      () => batches(key, [...recs, { inputs: [0.5], label: 1 }], { batchSize: 2 }),
      "batches",
      "dataset[3].inputs",
      /step 0 of sample 3 is 0\.5, not an integer/,
    );
    expectRefusal(
      () => batches(key, [...recs, { inputs: [1], label: 0.5 }], { batchSize: 2 }),
      "batches",
      "dataset[3].label",
      /sample 3's value is 0\.5, not an integer/,
    );
  });
  it("bad options: no key, batchSize 0, buckets not ascending, bucketBy returning NaN, a misspelt field", () => {
    expectRefusal(() => batches(5 as never, recs, { batchSize: 2 }), "batches", "key", /must be a PRNG key/);
    expectRefusal(() => batches(key, recs, { batchSize: 0 }), "batches", "options.batchSize", /a positive integer/);
    expectRefusal(
      () => batches(key, recs, { batchSize: 2, buckets: [4, 2] }),
      "batches",
      "options.buckets",
      /ascending/,
    );
    expectRefusal(
      () => batches(key, recs, { batchSize: 2, bucketBy: () => NaN }),
      "batches",
      "options.bucketBy",
      /bucketBy returned NaN for sample 0/,
    );
    expectRefusal(
      () => batches(key, recs, { batchSize: 2, padValue: { input: 1 } }),
      "batches",
      "options.padValue.input",
      /did you mean "inputs"/,
    );
    expectRefusal(() => batches(key, [], { batchSize: 2 }), "batches", "dataset", /dataset is empty/);
    expectRefusal(() => batches(key, recs, undefined as never), "batches", "options", /options/);
  });
  it("a batch index outside the epoch", () => {
    expectRefusal(
      () => batches(key, recs, { batchSize: 2 }).at(2),
      "batches(…).at",
      "i",
      /there is no batch 2 in an epoch of 2/,
    );
  });
});
