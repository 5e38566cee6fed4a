/**
 * @file `batches` (issue 22): pure, key-driven epochs of padded batches; bucketing by length
 * (bounds or sorting), padding fractions, records of fields (names' inputs/targets, spam's ids
 * and label, seq2seq's source and target), and the exact batches of examples/names' own bucketing.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { batches, padSequences, unpadSequences, type Batch, type PaddedSequences } from "@rewind/rnn";

const flat = (v: T.Tensor): number[] => Array.from(v.data);

/** 40 token-id sequences of lengths 1..20 (two of each), from a key. */
const dataset: number[][] = Array.from({ length: 40 }, (_, i) =>
  Array.from({ length: 1 + (i % 20) }, (_, t) => (i * 7 + t) % 11),
);

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const everyIndex = (idx: readonly (readonly number[])[]): number[] => sorted(idx.flat());
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("batches: keys and coverage", () => {
  it("the same key gives the same batches, bit for bit; another key another order", () => {
    const a = batches(T.random.key(5), dataset, { batchSize: 8 });
    const b = batches(T.random.key(5), dataset, { batchSize: 8 });
    expect(a.indices).toEqual(b.indices);
    [...a].forEach((batch, i) => expect(flat(batch.data.xs)).toEqual(flat(b.at(i).data.xs)));
    expect(batches(T.random.key(6), dataset, { batchSize: 8 }).indices).not.toEqual(a.indices);
  });
  it("covers every sample exactly once per epoch, and iterating twice gives the same batches", () => {
    const epoch = batches(T.random.key(1), dataset, { batchSize: 7 });
    expect(everyIndex(epoch.indices)).toEqual(range(40));
    expect(epoch.indices.map((i) => i.length)).toEqual([7, 7, 7, 7, 7, 5]);
    expect([...epoch].map((b) => b.indices)).toEqual([...epoch].map((b) => b.indices));
  });
  it("without shuffle: dataset order; dropLast leaves out the short last batch", () => {
    const epoch = batches(T.random.key(0), dataset, { batchSize: 16, shuffle: false, dropLast: true });
    expect(epoch.indices).toEqual([range(16), range(16).map((i) => i + 16)]);
  });
  it("each batch holds its samples, padded to its longest", () => {
    for (const b of batches(T.random.key(2), dataset, { batchSize: 6 })) {
      const longest = Math.max(...b.indices.map((i) => dataset[i]!.length));
      expect(b.data.xs.shape).toEqual([b.indices.length, longest]);
      expect(unpadSequences(b.data.xs, b.data.lengths).map(flat)).toEqual(b.indices.map((i) => dataset[i]));
    }
  });
});

describe("batches: bucketing and padding", () => {
  const paddingOf = (b: Batch<PaddedSequences>): number =>
    1 - flat(b.data.mask).reduce((s, m) => s + m, 0) / b.data.mask.data.length;

  it("buckets: each sample in the first bucket that holds it, each batch padded to its bucket's bound", () => {
    const bounds = [5, 10, 20];
    const epoch = batches(T.random.key(3), dataset, { batchSize: 4, buckets: bounds });
    expect(everyIndex(epoch.indices)).toEqual(range(40));
    for (const b of epoch) {
      const bound = bounds[b.bucket]!;
      expect(b.data.xs.shape[1]).toBe(bound);
      for (const i of b.indices) expect(bounds.find((x) => dataset[i]!.length <= x)).toBe(bound);
    }
  });
  it("reports each batch's padding fraction and the epoch's, as the masks count them", () => {
    const epoch = batches(T.random.key(3), dataset, { batchSize: 4, buckets: [5, 10, 20] });
    let padded = 0;
    let total = 0;
    for (const b of epoch) {
      expect(b.paddingFraction).toBeCloseTo(paddingOf(b), 15);
      total += b.data.mask.data.length;
      padded += b.data.mask.data.length - flat(b.data.mask).reduce((s, m) => s + m, 0);
    }
    expect(epoch.padding).toEqual({ paddedSteps: padded, totalSteps: total, fraction: padded / total });
  });
  it("bucketBy without bounds sorts by length: far less padding than random batches", () => {
    const plain = batches(T.random.key(4), dataset, { batchSize: 4 }).padding.fraction;
    const grouped = batches(T.random.key(4), dataset, { batchSize: 4, bucketBy: "length" });
    expect(everyIndex(grouped.indices)).toEqual(range(40));
    // Two samples of each length and batches of 4: at most one step of padding per sample.
    expect(grouped.padding.fraction).toBeLessThan(0.1);
    expect(plain).toBeGreaterThan(0.3);
  });
  it("bucketBy as a function: samples are sorted by its key (here longest first)", () => {
    const epoch = batches(T.random.key(0), dataset, { batchSize: 8, bucketBy: (s) => -s.length, shuffle: false });
    const lengths = epoch.indices.flat().map((i) => dataset[i]!.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
  });
  it("one bound gives fixed shapes; truncating cuts longer samples explicitly", () => {
    const epoch = batches(T.random.key(0), dataset, { batchSize: 8, buckets: [12], truncating: "post" });
    for (const b of epoch) expect(b.data.xs.shape).toEqual([b.indices.length, 12]);
    expect(Math.max(...[...epoch].flatMap((b) => flat(b.data.lengths)))).toBe(12);
  });
});

describe("batches: records of fields", () => {
  it("sequence fields are padded per batch, number fields stacked to [B]; per-field padValue and dtype", () => {
    const samples = dataset.slice(0, 10).map((ids, i) => ({ ids, weights: ids.map((x) => [x / 2]), label: i % 2 }));
    const epoch = batches(T.random.key(9), samples, {
      batchSize: 4,
      padValue: { ids: 99 },
      dtype: { weights: "float64" },
    });
    for (const b of epoch) {
      const { ids, weights, label } = b.data;
      expect([ids.xs.dtype, weights.xs.dtype, label.dtype]).toEqual(["int32", "float64", "int32"]);
      expect(flat(label)).toEqual(b.indices.map((i) => i % 2));
      expect(weights.xs.shape).toEqual([...ids.xs.shape, 1]);
      const row0 = flat(ids.xs).slice(0, ids.xs.shape[1]);
      expect(row0).toEqual([
        ...dataset[b.indices[0]!]!,
        ...new Array<number>(row0.length - dataset[b.indices[0]!]!.length).fill(99),
      ]);
    }
  });
  it("seq2seq: source and target have their own lengths; buckets pad both to the bound", () => {
    const pairs = dataset.slice(0, 12).map((src) => ({ src, tgt: [...src].reverse().concat([11]) }));
    for (const b of batches(T.random.key(1), pairs, { batchSize: 5, buckets: [8, 21] })) {
      expect(b.data.src.xs.shape[1]).toBe(b.data.tgt.xs.shape[1]);
      expect(flat(b.data.tgt.lengths)).toEqual(flat(b.data.src.lengths).map((n) => n + 1));
    }
  });
});

describe("batches reproduces examples/names' bucketing", () => {
  it("the same batches, in the same order, as names' epochBatches for one epoch key", () => {
    // names: shuffle with split(k)[0], deal into buckets by length, whole batches only, shuffle
    // the batches with split(k)[1]. Written out here as the example has it.
    const names = dataset.map((ids) => ({ inputs: [0, ...ids], targets: [...ids, 0] }));
    const k = T.random.foldIn(T.random.key(7), 3);
    const [kNames, kBatches] = T.random.split(k, 2) as [T.Key, T.Key];
    const order = Array.from(T.random.permutation(kNames, names.length).data);
    const bucketSteps = [8, 21];
    const byHand = bucketSteps.flatMap((_, i) => {
      const fits = order.filter((n) => bucketSteps.findIndex((s) => names[n]!.inputs.length <= s) === i);
      return range(Math.floor(fits.length / 4)).map((j) => fits.slice(j * 4, (j + 1) * 4));
    });
    const expected = Array.from(T.random.permutation(kBatches, byHand.length).data, (i) => byHand[i]!);
    const epoch = batches(k, names, { batchSize: 4, buckets: bucketSteps, dropLast: true });
    expect(epoch.indices).toEqual(expected);
    const first = epoch.at(0);
    const want = padSequences(
      first.indices.map((i) => names[i]!.inputs),
      { maxLength: bucketSteps[first.bucket]! },
    );
    expect(flat(first.data.inputs.xs)).toEqual(flat(want.xs));
  });
});
