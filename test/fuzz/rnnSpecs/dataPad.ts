/**
 * @file Fuzz specs of the sequence-data utilities that build batches: `padSequences`,
 * `unpadSequences` and `batches`, against references written here in plain JavaScript; bad
 * samples (empty, too long, mixed feature sizes or dtypes, non-integer ids, not sequences) and
 * bad options must be refused with a TensorException naming the op.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import { dataOf, expectNear, NOT_OPTIONS, NOT_TENSORS, prop, rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";

/** The keys of `PadOptions` and `BatchOptions`, as documented. */
const PAD_KEYS = ["maxLength", "padValue", "padding", "truncating", "dtype", "allowEmpty"] as const;
const BATCH_KEYS = [...PAD_KEYS, "batchSize", "shuffle", "dropLast", "bucketBy", "buckets"] as const;

/** Ragged token ids (lengths 1..5) with pad options that fit them. */
const arbPadCase = fc
  .record({
    lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
    seed: fc.nat({ max: 1000 }),
    padding: fc.constantFrom("pre" as const, "post" as const),
    truncating: fc.constantFrom("pre" as const, "post" as const, undefined),
    maxLength: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    padValue: fc.integer({ min: -3, max: 3 }),
  })
  .map((r) => ({
    seqs: r.lengths.map((n, i) => Array.from({ length: n }, (_, t) => (r.seed + 5 * i + t) % 17)),
    options: {
      padding: r.padding,
      padValue: r.padValue,
      ...(r.truncating === undefined ? {} : { truncating: r.truncating }),
      ...(r.maxLength === undefined
        ? {}
        : { maxLength: r.truncating === undefined ? Math.max(r.maxLength, ...r.lengths) : r.maxLength }),
    },
  }));

/** The padded rows a reference builds: each sequence cut as asked, then padded on its side. */
const referencePad = (
  seqs: number[][],
  o: R.PadOptions,
): { xs: number[]; lengths: number[]; mask: number[]; steps: number } => {
  const steps = o.maxLength ?? Math.max(...seqs.map((s) => s.length));
  const xs: number[] = [];
  const mask: number[] = [];
  const lengths = seqs.map((s) => {
    const kept = s.length <= steps ? s : o.truncating === "pre" ? s.slice(s.length - steps) : s.slice(0, steps);
    const pad = new Array<number>(steps - kept.length).fill(o.padValue ?? 0);
    const ones = new Array<number>(kept.length).fill(1);
    const zeros = new Array<number>(steps - kept.length).fill(0);
    xs.push(...(o.padding === "pre" ? [...pad, ...kept] : [...kept, ...pad]));
    mask.push(...(o.padding === "pre" ? [...zeros, ...ones] : [...ones, ...zeros]));
    return kept.length;
  });
  return { xs, lengths, mask, steps };
};

export const padSequencesSpec: Spec = () => {
  let n = prop(
    arbPadCase,
    ({ seqs, options }) => {
      const got = R.padSequences(seqs, options);
      const ref = referencePad(seqs, options);
      expectNear("padSequences xs", got.xs, ref.xs, [seqs.length, ref.steps], 0, 0);
      expectNear("padSequences lengths", got.lengths, ref.lengths, [seqs.length], 0, 0);
      expectNear("padSequences mask", got.mask, ref.mask, [seqs.length, ref.steps], 0, 0);
    },
    40,
  );
  const names = ["padSequences"];
  n += rejectEach(names, {
    "an empty sequence": () => R.padSequences([[1], []]),
    "no sequences": () => R.padSequences([]),
    "a sequence longer than maxLength": () => R.padSequences([[1, 2, 3]], { maxLength: 2 }),
    "mixed feature sizes": () => R.padSequences([[[1, 2]], [[1]]]),
    "mixed dtypes": () => R.padSequences([T.zeros([1], "float32"), T.zeros([1], "float64")]),
    "a non-integer id": () => R.padSequences([[1, 1.5]]),
    "an id beyond int32": () => R.padSequences([[2 ** 31]]),
    "a string id": () => R.padSequences([["a"]] as never),
    "mixed forms": () => R.padSequences([[1], T.zeros([1], "int32")] as never),
    "a rank-0 tensor": () => R.padSequences([T.scalar(1)]),
    "a padValue the dtype cannot hold": () => R.padSequences([[1]], { padValue: 0.5 }),
    "a bool sequence holding 2": () => R.padSequences([[2]], { dtype: "bool" }),
  });
  n += rejectPool(names, [null, 3, "ab", {}, [null], [3], [{}]], (s) => R.padSequences(s as never));
  n += rejectPool(names, NOT_OPTIONS, (o) => R.padSequences([[1]], o as never));
  n += rejectPool(names, [0, -1, 1.5, "2", NaN], (m) => R.padSequences([[1]], { maxLength: m as number }));
  for (const side of ["padding", "truncating"])
    n += rejectPool(names, ["left", 1, true], (v) => R.padSequences([[1]], { [side]: v }));
  n += rejectPool(names, ["float16", 1], (d) => R.padSequences([[1]], { dtype: d as T.DType }));
  n += misspeltCases({
    names,
    error: T.TensorException,
    known: PAD_KEYS,
    base: { padding: "pre", maxLength: 3 },
    call: (o) => R.padSequences([[1, 2]], o),
  });
  return n;
};

export const unpadSequencesSpec: Spec = () => {
  let n = prop(
    arbPadCase,
    ({ seqs, options }) => {
      const p = R.padSequences(seqs, options);
      const back = R.unpadSequences(p.xs, p.lengths, { padding: options.padding });
      const ref = referencePad(seqs, options);
      back.forEach((t, b) => {
        const row = ref.xs.slice(b * ref.steps, (b + 1) * ref.steps);
        const kept = options.padding === "pre" ? row.slice(ref.steps - ref.lengths[b]!) : row.slice(0, ref.lengths[b]);
        expectNear(`unpadSequences[${b}]`, t, kept, [ref.lengths[b]!], 0, 0);
      });
    },
    30,
  );
  const ys = T.zeros([2, 3, 1], "float64");
  const names = ["unpadSequences"];
  n += rejectPool(names, NOT_TENSORS, (y) => R.unpadSequences(y as T.Tensor, [1]));
  n += rejectPool(names, [T.zeros([3]), T.scalar(1)], (y) => R.unpadSequences(y, [1, 1, 1]));
  n += rejectPool(names, [[4, 1], [1], [-1, 0], [0.5, 1], null, "x", T.zeros([2], "float32")], (l) =>
    R.unpadSequences(ys, l as number[]),
  );
  n += rejectPool(names, NOT_OPTIONS, (o) => R.unpadSequences(ys, [1, 1], o as never));
  n += rejectPool(names, ["left", 1], (v) => R.unpadSequences(ys, [1, 1], { padding: v as "pre" }));
  n += misspeltCases({
    names,
    error: T.TensorException,
    known: ["padding"],
    call: (o) => R.unpadSequences(ys, [1, 1], o),
  });
  return n;
};

export const batchesSpec: Spec = () => {
  const arb = fc.record({
    lengths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 20 }),
    batchSize: fc.integer({ min: 1, max: 6 }),
    seed: fc.nat({ max: 1000 }),
    shuffle: fc.boolean(),
    buckets: fc.boolean(),
  });
  let n = prop(
    arb,
    ({ lengths, batchSize, seed, shuffle, buckets }) => {
      const data = lengths.map((len, i) => Array.from({ length: len }, (_, t) => i + t));
      const o = { batchSize, shuffle, ...(buckets ? { buckets: [3, 6] } : {}) };
      const epoch = R.batches(T.random.key(seed), data, o);
      expect(epoch.indices.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
      expect(R.batches(T.random.key(seed), data, o).indices).toEqual(epoch.indices);
      let padded = 0;
      let total = 0;
      for (const b of epoch) {
        const steps = buckets ? [3, 6][b.bucket]! : Math.max(...b.indices.map((i) => lengths[i]!));
        const ref = referencePad(
          b.indices.map((i) => data[i]!),
          { maxLength: steps },
        );
        expectNear("batches xs", b.data.xs, ref.xs, [b.indices.length, steps], 0, 0);
        const pad = ref.mask.filter((m) => m === 0).length;
        expect(b.paddingFraction).toBeCloseTo(pad / ref.mask.length, 12);
        padded += pad;
        total += ref.mask.length;
      }
      expect(epoch.padding.paddedSteps).toBe(padded);
      expect(epoch.padding.totalSteps).toBe(total);
      if (!shuffle && !buckets) expect(epoch.indices.flat()).toEqual(lengths.map((_, i) => i));
    },
    30,
  );
  const k = T.random.key(0);
  const recs = [
    { ids: [1, 2], y: 0 },
    { ids: [3], y: 1 },
  ];
  const names = ["batches"];
  n += rejectEach(names, {
    "an empty dataset": () => R.batches(k, [], { batchSize: 1 }),
    "a sample longer than the last bucket": () => R.batches(k, [[1, 2, 3]], { batchSize: 1, buckets: [2] }),
    "a sample longer than maxLength": () => R.batches(k, [[1, 2, 3]], { batchSize: 1, maxLength: 2 }),
    "an empty sample": () => R.batches(k, [[1], []], { batchSize: 1 }),
    "a record without a field": () => R.batches(k, [...recs, { ids: [1] }] as never, { batchSize: 1 }),
    "a record with another field": () => R.batches(k, [...recs, { ids: [1], y: 0, z: 1 }] as never, { batchSize: 1 }),
    "a non-integer label": () => R.batches(k, [...recs, { ids: [1], y: 0.5 }], { batchSize: 1 }),
    "bucketBy returning NaN": () => R.batches(k, [[1]], { batchSize: 1, bucketBy: () => NaN }),
    "bucketBy giving more than the last bound": () =>
      R.batches(k, [[1]], { batchSize: 1, buckets: [2], bucketBy: () => 3 }),
    "a per-field padValue for a dataset of sequences": () => R.batches(k, [[1]], { batchSize: 1, padValue: { x: 1 } }),
    "a padValue the dtype cannot hold": () => R.batches(k, recs, { batchSize: 1, padValue: { ids: 0.5 } }),
    "a batch index outside the epoch": () => R.batches(k, recs, { batchSize: 1 }).at(5),
  });
  n += rejectPool(names, [null, 3, {}, "key", [1, 2]], (key) => R.batches(key as T.Key, recs, { batchSize: 1 }));
  n += rejectPool(names, [null, 3, "x", {}], (d) => R.batches(k, d as never, { batchSize: 1 }));
  n += rejectPool(names, [...NOT_OPTIONS, undefined], (o) => R.batches(k, recs, o as never));
  n += rejectPool(names, [0, -1, 1.5, NaN, "2", undefined], (b) => R.batches(k, recs, { batchSize: b as number }));
  n += rejectPool(names, [[], [0], [3, 2], [2, 2], "x", [1.5]], (b) =>
    R.batches(k, recs, { batchSize: 1, buckets: b as number[] }),
  );
  n += rejectPool(names, ["len", 3, {}], (b) => R.batches(k, recs, { batchSize: 1, bucketBy: b as "length" }));
  for (const f of ["shuffle", "dropLast", "allowEmpty"])
    n += rejectPool(names, ["yes", 1, null], (v) => R.batches(k, recs, { batchSize: 1, [f]: v }));
  n += misspeltCases({
    names,
    error: T.TensorException,
    known: BATCH_KEYS,
    base: { batchSize: 1, buckets: [4] },
    call: (o) => R.batches(k, recs, o as never),
  });
  for (const slot of ["padValue", "dtype"] as const)
    n += misspeltCases({
      names,
      error: T.TensorException,
      known: slot === "padValue" ? ["ids"] : ["ids", "y"],
      call: (o) => R.batches(k, recs, { batchSize: 1, [slot]: o }),
    });
  expect(dataOf(R.batches(k, recs, { batchSize: 2, shuffle: false }).at(0).data.y)).toEqual([0, 1]);
  return n + 1;
};
