/**
 * @file Masks, masked reductions and masked sequence losses (issue 22), against plain float64
 * JavaScript references: the mean is over valid positions (never over the padded length), and
 * padding — NaN included — reaches neither the value nor the gradient, eager, under `jit`, and
 * inside `scan`.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { maskedMean, maskedSum, padSequences, sequenceCrossEntropy, sequenceMask, sequenceMse } from "@rewind/rnn";

const flat = (v: A.Value): number[] => Array.from((v as T.Tensor).data);
const f64 = (data: readonly number[], shape: readonly number[]): T.Tensor => T.fromDataOrThrow(data, shape, "float64");

describe("sequenceMask", () => {
  it("batch-major [B, T], valid steps first, or last with padding 'pre'", () => {
    expect(flat(sequenceMask([2, 0, 3], 3))).toEqual([1, 1, 0, 0, 0, 0, 1, 1, 1]);
    expect(flat(sequenceMask([2, 0, 3], 3, { padding: "pre" }))).toEqual([0, 1, 1, 0, 0, 0, 1, 1, 1]);
  });
  it("takes traced lengths (under jit) and gives what it gives eagerly", () => {
    const len = T.fromDataOrThrow([1, 3], [2], "int32");
    const m = A.jit((l: A.Value) => sequenceMask(l, 4))(len);
    expect(flat(m)).toEqual(flat(sequenceMask(len, 4)));
  });
});

describe("maskedSum and maskedMean", () => {
  // Two samples, 3 steps, 2 features; sample 1 has 1 valid step and NaN padding.
  const x = f64([1, 2, 3, 4, 5, 6, 10, 20, NaN, NaN, Infinity, -Infinity], [2, 3, 2]);
  const lengths = [3, 1];

  it("per sample (default) over each sample's valid steps; padding (NaN, ±Inf) is never read", () => {
    expect(flat(maskedSum(x, lengths))).toEqual([9, 12, 10, 20]);
    expect(flat(maskedMean(x, lengths))).toEqual([3, 4, 10, 20]);
  });
  it("per batch: the sum over every valid position divided by their number (4), not by B·T", () => {
    expect(flat(maskedSum(x, lengths, { per: "batch" }))).toEqual([19, 32]);
    expect(flat(maskedMean(x, lengths, { per: "batch" }))).toEqual([19 / 4, 32 / 4]);
  });
  it("a bool mask works as well as lengths", () => {
    const mask = sequenceMask(lengths, 3);
    expect(flat(maskedMean(x, mask))).toEqual(flat(maskedMean(x, lengths)));
  });
  it("a sample without valid steps gives 0, not NaN", () => {
    expect(flat(maskedMean(x, [0, 1]))).toEqual([0, 0, 10, 20]);
    expect(flat(maskedMean(x, [0, 0], { per: "batch" }))).toEqual([0, 0]);
  });
  it("the gradient is exactly 0 on padding and finite everywhere, even with NaN there", () => {
    // (A mask multiplied in, x · m, gets this gradient too, but NaN · 0 = NaN in the value: see above.)
    const g = A.grad((v: A.Value) => A.sum(maskedMean(v, lengths)))(x);
    expect(flat(g)).toEqual([1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1, 1, 0, 0, 0, 0]);
  });
  it("runs inside jit (traced lengths) and inside a scan body, with the eager result", () => {
    const len = T.fromDataOrThrow(lengths, [2], "int32");
    expect(flat(A.jit((v: A.Value, l: A.Value) => maskedMean(v, l))(x, len))).toEqual(flat(maskedMean(x, len)));
    // Each scan step reduces the whole batch scaled by its own factor.
    const [, ys] = A.scan(
      (c: A.Value, s: A.Value) => [c, maskedSum(A.mul(x, s), len, { per: "batch" })] as const,
      T.zeros([], "float64"),
      f64([1, 2], [2]),
    );
    expect(flat(ys)).toEqual([19, 32, 38, 64]);
  });
});

/** The float64 reference: −log softmax(logits)[target] (with label smoothing ε), mean over valid positions. */
const referenceCe = (
  logits: T.Tensor,
  targets: readonly number[],
  valid: readonly boolean[],
  eps = 0,
): { mean: number; perPosition: number[] } => {
  const v = logits.shape[2]!;
  const per: number[] = [];
  let total = 0;
  let count = 0;
  for (let k = 0; k < valid.length; k++) {
    if (!valid[k]) {
      per.push(0);
      continue;
    }
    const row = Array.from(logits.data.subarray(k * v, (k + 1) * v));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
    const logp = row.map((z) => z - lse);
    const loss = (1 - eps) * -logp[targets[k]!]! + (eps * -logp.reduce((s, z) => s + z, 0)) / v;
    per.push(loss);
    total += loss;
    count += 1;
  }
  return { mean: total / count, perPosition: per };
};

describe("sequenceCrossEntropy", () => {
  const logits = T.random.normal(T.random.key(3), [2, 3, 4], "float64");
  // Sample 1 has one valid step; its padded targets are -1, which must be ignored.
  const { xs: targets, lengths } = padSequences([[1, 2, 3], [0]], { padValue: -1 });
  const valid = [true, true, true, true, false, false];

  it("is the mean over valid positions of −log softmax[target] (divides by 4, not by 6)", () => {
    const ref = referenceCe(logits, flat(targets), valid);
    expect(flat(sequenceCrossEntropy(logits, targets, lengths))[0]).toBeCloseTo(ref.mean, 14);
    const none = flat(sequenceCrossEntropy(logits, targets, lengths, { reduction: "none" }));
    none.forEach((l, k) => expect(l).toBeCloseTo(ref.perPosition[k]!, 14));
    const total = flat(sequenceCrossEntropy(logits, targets, lengths, { reduction: "sum" }))[0]!;
    expect(total).toBeCloseTo(ref.mean * 4, 13);
  });
  it("label smoothing ε: (1 − ε)·NLL + ε·mean over classes of −log p", () => {
    const ref = referenceCe(logits, flat(targets), valid, 0.2);
    expect(flat(sequenceCrossEntropy(logits, targets, lengths, { labelSmoothing: 0.2 }))[0]).toBeCloseTo(ref.mean, 14);
  });
  it("ignoreIndex leaves positions out like padding", () => {
    const t = padSequences([[1, -100, 3], [0]], { padValue: -1 }).xs;
    const ref = referenceCe(logits, flat(t), [true, false, true, true, false, false]);
    expect(flat(sequenceCrossEntropy(logits, t, lengths, { ignoreIndex: -100 }))[0]).toBeCloseTo(ref.mean, 14);
  });
  it("NaN or huge logits on padding change neither the value nor the gradient (0 there)", () => {
    const data = Array.from(logits.data);
    for (let k = 4 * 4; k < 6 * 4; k++) data[k] = k % 2 === 0 ? NaN : 1e300;
    const dirty = f64(data, [2, 3, 4]);
    const loss = (l: A.Value) => sequenceCrossEntropy(l, targets, lengths, { labelSmoothing: 0.1 });
    expect(flat(loss(dirty))).toEqual(flat(loss(logits)));
    const g = flat(A.grad(loss)(dirty));
    expect(g).toEqual(flat(A.grad(loss)(logits)));
    expect(g.slice(16)).toEqual(new Array(8).fill(0));
  });
  it("jit (traced targets and lengths) gives the eager value bit for bit", () => {
    const jitted = A.jit((l: A.Value, t: A.Value, n: A.Value) => sequenceCrossEntropy(l, t, n));
    expect(flat(jitted(logits, targets, lengths))).toEqual(flat(sequenceCrossEntropy(logits, targets, lengths)));
  });
});

describe("sequenceMse", () => {
  const preds = f64([1, 2, 3, 4, 5, 6], [2, 3, 1]);
  const ys = f64([0, 0, 0, 1, NaN, NaN], [2, 3, 1]);

  it("is the plain MSE of the valid elements (NaN targets on padding are never read)", () => {
    // Valid: 1, 2, 3 vs 0, 0, 0 and 4 vs 1 → (1 + 4 + 9 + 9) / 4.
    expect(flat(sequenceMse(preds, ys, [3, 1]))).toEqual([23 / 4]);
    expect(flat(sequenceMse(preds, ys, [3, 1], { reduction: "sum" }))).toEqual([23]);
    expect(flat(sequenceMse(preds, ys, [3, 1], { reduction: "none" }))).toEqual([1, 4, 9, 9, 0, 0]);
  });
  it("averages over features too: equals mean((p − y)²) over every valid element", () => {
    const p = f64([1, 2, 3, 4, 9, 9], [1, 3, 2]);
    expect(flat(sequenceMse(p, T.zeros([1, 3, 2], "float64"), [2]))).toEqual([(1 + 4 + 9 + 16) / 4]);
  });
  it("the gradient is 0 on padding and 2(p − y)/count on valid elements", () => {
    const g = A.grad((p: A.Value) => sequenceMse(p, ys, [3, 1]))(preds);
    expect(flat(g)).toEqual([2 / 4, 4 / 4, 6 / 4, 6 / 4, 0, 0]);
  });
});
