/**
 * @file Fuzz specs of the masks, masked reductions and masked sequence losses:
 * `sequenceMask`, `maskedSum`, `maskedMean`, `sequenceCrossEntropy`, `sequenceMse`, against
 * float64 references written here; wrong shapes, dtypes, lengths, targets and options must be
 * refused with a TensorException naming the op.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import { expectNear, normal, NOT_OPTIONS, NOT_TENSORS, prop, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { BAD_LENGTHS } from "./sequence.js";

/** A batch [B, T, F] (B ≥ 1) with lengths in [0, T], as numbers or an int32 tensor. */
const arbMasked = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    time: fc.integer({ min: 1, max: 4 }),
    features: fc.integer({ min: 1, max: 3 }),
    seed: fc.nat({ max: 10_000 }),
    asTensor: fc.boolean(),
    per: fc.constantFrom("sample" as const, "batch" as const),
  })
  .chain((r) =>
    fc
      .array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch })
      .map((ls) => ({ ...r, ls })),
  );

const lengthsArg = (ls: number[], asTensor: boolean): R.ValidSteps =>
  asTensor ? T.fromDataOrThrow(ls, [ls.length], "int32") : ls;

/** Σ (and mean) over the valid steps of x [B, T, F], per sample or over the batch. */
const referenceReduce = (x: T.Tensor, ls: number[], per: "sample" | "batch", mean: boolean): number[] => {
  const [batch, time, f] = x.shape as [number, number, number];
  const at = (b: number, t: number, j: number) => x.data[(b * time + t) * f + j]!;
  const rows = Array.from({ length: batch }, (_, b) =>
    Array.from({ length: f }, (_, j) => {
      let s = 0;
      for (let t = 0; t < ls[b]!; t++) s += at(b, t, j);
      return s;
    }),
  );
  if (per === "sample") return rows.flatMap((r, b) => r.map((s) => (mean ? s / Math.max(ls[b]!, 1) : s)));
  const count = ls.reduce((a, c) => a + c, 0);
  return Array.from({ length: f }, (_, j) => {
    const s = rows.reduce((a, r) => a + r[j]!, 0);
    return mean ? s / Math.max(count, 1) : s;
  });
};

const reduceSpec =
  (name: "maskedSum" | "maskedMean"): Spec =>
  () => {
    const f = name === "maskedSum" ? R.maskedSum : R.maskedMean;
    let n = prop(
      arbMasked,
      ({ batch, time, features, seed, asTensor, per, ls }) => {
        const x = normal(seed, [batch, time, features]);
        const ref = referenceReduce(x, ls, per, name === "maskedMean");
        const shape = per === "sample" ? [batch, features] : [features];
        expectNear(name, f(x, lengthsArg(ls, asTensor), { per }), ref, shape, 1e-12, 1e-12);
        expectNear(`${name} with a mask`, f(x, R.sequenceMask(ls, time), { per }), ref, shape, 1e-12, 1e-12);
      },
      25,
    );
    const x = normal(1, [2, 3, 1]);
    n += rejectPool([name], BAD_LENGTHS, (l) => f(x, l as number[]));
    n += rejectPool([name], [T.zeros([2, 2], "bool"), T.zeros([3, 2], "bool")], (m) => f(x, m));
    n += rejectPool([name], [...NOT_TENSORS, normal(1, [3])], (v) => f(v as T.Tensor, [1, 1]));
    n += rejectPool([name], NOT_OPTIONS, (o) => f(x, [1, 1], o as never));
    n += rejectPool([name], ["time", 1], (p) => f(x, [1, 1], { per: p as "batch" }));
    n += misspeltCases({ names: [name], error: T.TensorException, known: ["per"], call: (o) => f(x, [1, 1], o) });
    return n;
  };

export const maskedSumSpec: Spec = reduceSpec("maskedSum");
export const maskedMeanSpec: Spec = reduceSpec("maskedMean");

export const sequenceMaskSpec: Spec = () => {
  let n = prop(
    arbMasked,
    ({ time, ls, asTensor, seed }) => {
      const pre = seed % 2 === 0;
      const m = R.sequenceMask(lengthsArg(ls, asTensor), time, pre ? { padding: "pre" } : {});
      const ref = ls.flatMap((len) =>
        Array.from({ length: time }, (_, t) => ((pre ? t >= time - len : t < len) ? 1 : 0)),
      );
      expectNear("sequenceMask", m, ref, [ls.length, time], 0, 0);
    },
    20,
  );
  n += rejectPool(
    ["sequenceMask"],
    BAD_LENGTHS.filter((l) => !Array.isArray(l) || l.length === 2),
    (l) => R.sequenceMask(l as number[], 3),
  );
  n += rejectPool(["sequenceMask"], [-1, 1.5, NaN, "3", null], (t) => R.sequenceMask([0, 0], t as number));
  n += rejectPool(["sequenceMask"], [...NOT_OPTIONS, { padding: "left" }], (o) => R.sequenceMask([1], 2, o as never));
  n += misspeltCases({
    names: ["sequenceMask"],
    error: T.TensorException,
    known: ["padding"],
    call: (o) => R.sequenceMask([1], 2, o),
  });
  return n;
};

/** The float64 cross-entropy reference: mean (or sum) over valid positions, label smoothing ε. */
const referenceCe = (logits: T.Tensor, targets: number[], valid: boolean[], eps: number, sum: boolean): number => {
  const v = logits.shape[2]!;
  let total = 0;
  let count = 0;
  valid.forEach((ok, k) => {
    if (!ok) return;
    const row = Array.from(logits.data.subarray(k * v, (k + 1) * v));
    const m = Math.max(...row);
    const logp = row.map((z) => z - m - Math.log(row.reduce((s, y) => s + Math.exp(y - m), 0)));
    total += (1 - eps) * -logp[targets[k]!]! - (eps * logp.reduce((s, z) => s + z, 0)) / v;
    count += 1;
  });
  return sum ? total : total / Math.max(count, 1);
};

export const sequenceCrossEntropySpec: Spec = () => {
  let n = prop(
    arbMasked.chain((r) =>
      fc
        .record({ eps: fc.constantFrom(0, 0.1, 1), sum: fc.boolean(), ignore: fc.boolean() })
        .map((o) => ({ ...r, ...o })),
    ),
    ({ batch, time, features, seed, ls, asTensor, eps, sum, ignore }) => {
      const classes = features + 1;
      const logits = normal(seed, [batch, time, classes], 3);
      const ids = Array.from({ length: batch * time }, (_, k) => (ignore && k % 4 === 3 ? -7 : (seed + k) % classes));
      const valid = ids.map((id, k) => k % time < ls[Math.floor(k / time)]! && id !== -7);
      // Padded targets may hold anything: -1 there.
      const targets = T.fromDataOrThrow(
        ids.map((id, k) => (k % time < ls[Math.floor(k / time)]! ? id : -1)),
        [batch, time],
        "int32",
      );
      const got = R.sequenceCrossEntropy(logits, targets, lengthsArg(ls, asTensor), {
        labelSmoothing: eps,
        reduction: sum ? "sum" : "mean",
        ...(ignore ? { ignoreIndex: -7 } : {}),
      });
      expectNear("sequenceCrossEntropy", got, [referenceCe(logits, ids, valid, eps, sum)], [], 1e-12, 1e-12);
    },
    25,
  );
  const names = ["sequenceCrossEntropy"];
  const logits = normal(1, [2, 3, 4]);
  const targets = T.zeros([2, 3], "int32");
  n += rejectPool(names, [...NOT_TENSORS, normal(1, [2, 3]), T.zeros([2, 3, 4], "int32")], (l) =>
    R.sequenceCrossEntropy(l as T.Tensor, targets, [3, 3]),
  );
  n += rejectPool(
    names,
    [...NOT_TENSORS, T.zeros([2, 3]), T.zeros([2, 4], "int32"), T.fromDataOrThrow([0, 0, 0, 0, 4, 0], [2, 3], "int32")],
    (t) => R.sequenceCrossEntropy(logits, t as T.Tensor, [3, 3]),
  );
  n += rejectPool(names, BAD_LENGTHS, (l) => R.sequenceCrossEntropy(logits, targets, l as number[]));
  n += rejectPool(names, NOT_OPTIONS, (o) => R.sequenceCrossEntropy(logits, targets, [3, 3], o as never));
  n += rejectPool(names, [-0.1, 1.1, NaN, "0.1"], (e) =>
    R.sequenceCrossEntropy(logits, targets, [3, 3], { labelSmoothing: e as number }),
  );
  n += rejectPool(names, [0.5, NaN, "1"], (i) =>
    R.sequenceCrossEntropy(logits, targets, [3, 3], { ignoreIndex: i as number }),
  );
  n += misspeltCases({
    names,
    error: T.TensorException,
    known: ["reduction", "labelSmoothing", "ignoreIndex"],
    call: (o) => R.sequenceCrossEntropy(logits, targets, [3, 3], o),
  });
  return n;
};

export const sequenceMseSpec: Spec = () => {
  let n = prop(
    arbMasked,
    ({ batch, time, features, seed, ls, asTensor }) => {
      const p = normal(seed, [batch, time, features]);
      const y = normal(seed + 1, [batch, time, features]);
      let s = 0;
      let count = 0;
      for (let b = 0; b < batch; b++)
        for (let t = 0; t < ls[b]!; t++)
          for (let j = 0; j < features; j++, count++)
            s += (p.data[(b * time + t) * features + j]! - y.data[(b * time + t) * features + j]!) ** 2;
      expectNear(
        "sequenceMse",
        R.sequenceMse(p, y, lengthsArg(ls, asTensor)),
        [s / Math.max(count, 1)],
        [],
        1e-12,
        1e-12,
      );
    },
    25,
  );
  const names = ["sequenceMse"];
  const p = normal(1, [2, 3, 1]);
  n += rejectPool(names, [...NOT_TENSORS, normal(1, [2]), T.zeros([2, 3, 1], "int32")], (x) =>
    R.sequenceMse(x as T.Tensor, p, [1, 1]),
  );
  n += rejectPool(names, [...NOT_TENSORS, T.zeros([2, 3, 1]), normal(1, [2, 3, 2])], (y) =>
    R.sequenceMse(p, y as T.Tensor, [1, 1]),
  );
  n += rejectPool(names, BAD_LENGTHS, (l) => R.sequenceMse(p, p, l as number[]));
  n += rejectPool(names, [...NOT_OPTIONS, { reduction: "avg" }], (o) => R.sequenceMse(p, p, [1, 1], o as never));
  n += misspeltCases({
    names,
    error: T.TensorException,
    known: ["reduction"],
    call: (o) => R.sequenceMse(p, p, [1, 1], o),
  });
  return n;
};
