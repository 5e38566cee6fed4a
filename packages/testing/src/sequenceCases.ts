/**
 * @file The instances the sequence-data laws run on (a masked loss on a padded batch, a ragged
 * list to pad, a dataset to batch, ragged sequences for a cell) and fast-check arbitraries that
 * draw them, in float32 or float64. Data come from keys (`random.normal`), so a drawn case is
 * shrunk by its seed and sizes.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  gru,
  maskedMean,
  maskedSum,
  sequenceCrossEntropy,
  sequenceMse,
  type AnyCell,
  type BatchOptions,
  type PadOptions,
  type Sample,
  type Sequence,
} from "@rewind/rnn";

/** A float dtype the laws run in. */
export type LawDType = "float32" | "float64";

/**
 * A masked loss on a padded batch: the law re-pads it (other values, more steps) and expects the
 * same loss and gradient w.r.t. `predictions`.
 * @example const c: MaskedLossCase = { name: "mse", loss: sequenceMse, predictions, targets, lengths: [3, 1] }
 */
export interface MaskedLossCase {
  /** Shown in violation messages. */
  readonly name: string;
  /** The loss: a float scalar from predictions `[B, T, ...]`, targets `[B, T, ...]` and int32 lengths `[B]`. */
  readonly loss: (predictions: A.Value, targets: A.Value, lengths: A.Value) => A.Value;
  /** Float `[B, T, ...]`; entries past a sample's length are padding. */
  readonly predictions: T.Tensor;
  /** `[B, T, ...]` (any dtype); entries past a sample's length are padding. */
  readonly targets: T.Tensor;
  /** Each sample's valid steps, in [0, T]. */
  readonly lengths: readonly number[];
  /** Key of the replacement padding (default `random.key(0)`). */
  readonly key?: T.Key;
  /** Padding steps appended by the extra-padding half of the law (default 2). */
  readonly extraSteps?: number;
  /** Draw only finite replacement padding (default false: NaN, ±Infinity and 1e30 among them). */
  readonly finitePadding?: boolean;
}

/**
 * A ragged list and the options to pad it with (`unpad(pad(x)) = x`).
 * @example const c: UnpadPadCase = { seqs: [[1, 2], [3]], options: { padding: "pre" } }
 */
export interface UnpadPadCase {
  /** The ragged sequences (token ids, feature vectors or tensors). */
  readonly seqs: readonly Sequence[];
  /** The options of `padSequences` (the law unpads with the same `padding`). */
  readonly options?: PadOptions;
}

/**
 * A dataset, a key and the options of `batches` (coverage, determinism, padding fractions).
 * @example const c: BatchCoverageCase = { dataset: [[1], [2, 3]], key: random.key(0), options: { batchSize: 1 } }
 */
export interface BatchCoverageCase {
  /** The samples: sequences, or records of sequences and numbers. */
  readonly dataset: readonly Sample[];
  /** The epoch's key. */
  readonly key: T.Key;
  /** The options of `batches`. */
  readonly options: BatchOptions<Sample>;
}

/**
 * A cell, its parameters and ragged sequences `[T_i, inputSize]` of the parameters' dtype (a
 * padded batch through `rnn` with lengths equals each sample alone).
 * @example const c: PaddedRnnCase = { cell: gru, params, seqs: [normal(k, [3, 2]), normal(k2, [1, 2])] }
 */
export interface PaddedRnnCase {
  /** The cell run over the sequences. */
  readonly cell: AnyCell;
  /** Its parameters (their dtype is the sequences'). */
  readonly params: unknown;
  /** The ragged sequences, `[T_i, inputSize]` each (T_i may be 0). */
  readonly seqs: readonly T.Tensor[];
}

const normal = (seed: number, shape: readonly number[], dtype: LawDType): T.Tensor =>
  T.random.normal(T.random.key(seed), shape, dtype);

/**
 * `x` with the steps at and past each sample's length replaced by `fillWith(k)` for the k-th
 * replaced element (row-major), and `extra` steps of it appended.
 * @example repad(x, [2, 1], 1, (k) => k)
 */
export const repad = (
  x: T.Tensor,
  lengths: readonly number[],
  extra: number,
  fillWith: (k: number) => number,
): T.Tensor => {
  const [batch, time] = x.shape as [number, number];
  const per = T.sizeOf(x.shape.slice(2));
  const steps = time + extra;
  const out = T.allocate(x.dtype, batch * steps * per);
  let k = 0;
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++)
      for (let j = 0; j < per; j++)
        out[(b * steps + t) * per + j] = t < lengths[b]! ? x.data[(b * time + t) * per + j]! : fillWith(k++);
  return T.fromBuffer(x.dtype, [batch, steps, ...x.shape.slice(2)], out);
};

/**
 * Replacement padding drawn from `key` for a tensor of `dtype`: integers in [−3, 12] for int32
 * (negative and out-of-range ids), 0/1 for bool, else normal·100 with NaN, ±Infinity and 1e30
 * mixed in unless `finite`.
 * @example const fillWith = junk(random.key(1), "float64", false)
 */
export const junk = (key: T.Key, dtype: T.DType, finite: boolean): ((k: number) => number) => {
  const pool = T.random.normal(key, [64], "float64").data;
  const special = [NaN, Infinity, -Infinity, 1e30];
  return (k) => {
    const z = pool[k % 64]!;
    if (dtype === "int32") return Math.round(z * 5) % 16 === 0 ? -3 : (Math.round(Math.abs(z) * 7) % 16) - 3;
    if (dtype === "bool") return z > 0 ? 1 : 0;
    return !finite && k % 3 === 0 ? special[(k / 3) % 4]! : z * 100;
  };
};

/** The built-in masked losses the property draws from, by name. */
const LOSSES = [
  "crossEntropy",
  "crossEntropySmoothed",
  "crossEntropyIgnore",
  "mse",
  "maskedMeanSample",
  "maskedMeanBatch",
  "maskedSum",
] as const;

const lossOf = (name: (typeof LOSSES)[number]): MaskedLossCase["loss"] => {
  switch (name) {
    case "crossEntropy":
      return (p, t, n) => sequenceCrossEntropy(p, t, n);
    case "crossEntropySmoothed":
      return (p, t, n) => sequenceCrossEntropy(p, t, n, { labelSmoothing: 0.1 });
    case "crossEntropyIgnore":
      return (p, t, n) => sequenceCrossEntropy(p, t, n, { ignoreIndex: -100, reduction: "sum" });
    case "mse":
      return (p, t, n) => sequenceMse(p, t, n);
    // The targets enter through add/sub, whose gradient does not multiply by them: a NaN target on
    // padding must not turn the (zero) cotangent there into NaN, as mul(p, t) would (0 · NaN).
    case "maskedMeanSample":
      return (p, t, n) => A.sum(A.square(maskedMean(A.sub(p, t), n)));
    case "maskedMeanBatch":
      return (p, t, n) => A.sum(A.sin(maskedMean(A.add(p, t), n, { per: "batch" })));
    case "maskedSum":
      return (p, t, n) => A.sum(A.tanh(maskedSum(A.sub(p, t), n)));
  }
};

/** Lengths for a batch of `b` sequences of at most `time` steps (0 allowed when `minLength` is 0). */
const arbLengths = (b: number, time: number, minLength = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: Math.min(minLength, time), max: time }), { minLength: b, maxLength: b });

/** Bounds of the drawn cases. */
export interface SequenceCaseBounds {
  readonly dtype: LawDType;
  readonly maxBatch: number;
  readonly maxTime: number;
}

/**
 * A masked-loss case: one of the built-in losses (cross-entropy plain, smoothed, with an ignore
 * index; MSE; masked means and sums per sample and per batch) on random data.
 * @example fc.sample(arbMaskedLossCase({ dtype: "float64", maxBatch: 3, maxTime: 4 }), 1)
 */
export const arbMaskedLossCase = (o: SequenceCaseBounds): fc.Arbitrary<MaskedLossCase> =>
  fc
    .record({
      name: fc.constantFrom(...LOSSES),
      batch: fc.integer({ min: 1, max: o.maxBatch }),
      time: fc.integer({ min: 1, max: o.maxTime }),
      width: fc.integer({ min: 2, max: 4 }),
      seed: fc.nat({ max: 100_000 }),
      extraSteps: fc.integer({ min: 1, max: 3 }),
    })
    .chain((r) => arbLengths(r.batch, r.time).map((lengths) => ({ ...r, lengths })))
    .map(({ name, batch, time, width, seed, extraSteps, lengths }): MaskedLossCase => {
      const shape = [batch, time, width];
      const predictions = normal(seed, shape, o.dtype);
      const ce = name.startsWith("crossEntropy");
      const targets = ce
        ? T.fromDataOrThrow(
            Array.from({ length: batch * time }, (_, k) =>
              name === "crossEntropyIgnore" && k % 3 === 1 ? -100 : (seed + 7 * k) % width,
            ),
            [batch, time],
            "int32",
          )
        : normal(seed + 1, shape, o.dtype);
      return { name, loss: lossOf(name), predictions, targets, lengths, key: T.random.key(seed + 2), extraSteps };
    });

/**
 * A ragged list (token ids, feature vectors or tensors of the dtype) and pad options (either
 * side, a maxLength with or without truncation, a padValue).
 * @example fc.sample(arbUnpadPadCase({ dtype: "float32", maxBatch: 3, maxTime: 5 }), 1)
 */
export const arbUnpadPadCase = (o: SequenceCaseBounds): fc.Arbitrary<UnpadPadCase> =>
  fc
    .record({
      form: fc.constantFrom("ids", "vectors", "tensors"),
      batch: fc.integer({ min: 1, max: o.maxBatch }),
      features: fc.integer({ min: 1, max: 3 }),
      seed: fc.nat({ max: 100_000 }),
      padding: fc.constantFrom("pre" as const, "post" as const),
      truncating: fc.option(fc.constantFrom("pre" as const, "post" as const), { nil: undefined }),
      maxLength: fc.option(fc.integer({ min: 1, max: o.maxTime + 1 }), { nil: undefined }),
      padValue: fc.integer({ min: -9, max: 9 }),
    })
    .chain((r) => arbLengths(r.batch, o.maxTime, 1).map((lengths) => ({ ...r, lengths })))
    .map((r): UnpadPadCase => {
      const longest = Math.max(...r.lengths);
      // Without truncation, maxLength must hold every sequence.
      const maxLength =
        r.maxLength === undefined || r.truncating !== undefined ? r.maxLength : Math.max(r.maxLength, longest);
      const seqs = r.lengths.map((n, i): Sequence => {
        const x = normal(r.seed + i, [n, r.features], o.dtype);
        if (r.form === "tensors") return x;
        const rows = Array.from({ length: n }, (_, t) =>
          Array.from(x.data.subarray(t * r.features, (t + 1) * r.features)),
        );
        return r.form === "vectors" ? rows : rows.map((row) => Math.round(row[0]! * 10));
      });
      return {
        seqs,
        options: {
          padding: r.padding,
          padValue: r.padValue,
          ...(maxLength === undefined ? {} : { maxLength }),
          ...(r.truncating === undefined ? {} : { truncating: r.truncating }),
          ...(r.form === "ids" ? {} : { dtype: o.dtype }),
        },
      };
    });

/**
 * A dataset of token-id sequences or of `{ src, tgt, label }` records, a key, and options of
 * `batches`: batch size, shuffle, dropLast, no grouping / `bucketBy: "length"` / bucket bounds.
 * @example fc.sample(arbBatchCoverageCase({ dtype: "float64", maxBatch: 4, maxTime: 6 }), 1)
 */
export const arbBatchCoverageCase = (o: SequenceCaseBounds): fc.Arbitrary<BatchCoverageCase> =>
  fc
    .record({
      records: fc.boolean(),
      lengths: fc.array(fc.integer({ min: 1, max: o.maxTime }), { minLength: 1, maxLength: 30 }),
      batchSize: fc.integer({ min: 1, max: Math.max(1, o.maxBatch) }),
      shuffle: fc.boolean(),
      dropLast: fc.boolean(),
      grouping: fc.constantFrom("none", "length", "buckets"),
      cut: fc.integer({ min: 1, max: o.maxTime }),
      seed: fc.nat({ max: 100_000 }),
    })
    .map((r): BatchCoverageCase => {
      const ids = r.lengths.map((n, i) => Array.from({ length: n }, (_, t) => (r.seed + 3 * i + t) % 13));
      const dataset: Sample[] = r.records
        ? ids.map((s, i) => ({ src: s, tgt: [...s].reverse().concat([13]), label: (r.seed + i) % 2 }))
        : ids;
      const longest = Math.max(...r.lengths) + (r.records ? 1 : 0);
      const bounds = [...new Set([Math.min(r.cut, longest), longest])].sort((a, b) => a - b);
      return {
        dataset,
        key: T.random.key(r.seed),
        options: {
          batchSize: r.batchSize,
          shuffle: r.shuffle,
          dropLast: r.dropLast,
          ...(r.grouping === "length" ? { bucketBy: "length" as const } : {}),
          ...(r.grouping === "buckets" ? { buckets: bounds } : {}),
        },
      };
    });

/**
 * Ragged sequences for `cell` (default `gru`) with parameters of the dtype; some samples may be
 * empty.
 * @example fc.sample(arbPaddedRnnCase({ dtype: "float32", maxBatch: 3, maxTime: 4 }), 1)
 */
export const arbPaddedRnnCase = (o: SequenceCaseBounds & { readonly cell?: AnyCell }): fc.Arbitrary<PaddedRnnCase> =>
  fc
    .record({
      inputSize: fc.integer({ min: 1, max: 3 }),
      hiddenSize: fc.integer({ min: 1, max: 3 }),
      batch: fc.integer({ min: 1, max: o.maxBatch }),
      seed: fc.nat({ max: 100_000 }),
    })
    .chain((r) => arbLengths(r.batch, o.maxTime).map((lengths) => ({ ...r, lengths })))
    .map((r): PaddedRnnCase => {
      const cell = o.cell ?? gru;
      const sizes = { inputSize: r.inputSize, hiddenSize: r.hiddenSize };
      return {
        cell,
        params: cell.init(T.random.key(r.seed), sizes, { dtype: o.dtype }),
        seqs: r.lengths.map((n, i) => normal(r.seed + 1 + i, [n, r.inputSize], o.dtype)),
      };
    });

/** Each step of a sequence as a row of numbers (a token id is a row of one). */
const rowsOf = (s: unknown): number[][] => {
  if (T.isTensor(s)) {
    const per = T.sizeOf(s.shape.slice(1));
    return Array.from({ length: s.shape[0]! }, (_, t) => Array.from(s.data.subarray(t * per, (t + 1) * per)));
  }
  return Array.from(s as ArrayLike<number | ArrayLike<number>>, (x) => (typeof x === "number" ? [x] : Array.from(x)));
};

/**
 * The rows of sample `s` that a padded batch of `steps` keeps with `truncating`, as a tensor of
 * `dtype` (so values are rounded as the batch rounds them).
 * @example keptRows([1, 2, 3], 2, "pre", "int32", []) // int32 [2, 3]
 */
export const keptRows = (
  s: unknown,
  steps: number,
  truncating: "pre" | "post" | undefined,
  dtype: T.DType,
  features: readonly number[],
): T.Tensor => {
  const rows = rowsOf(s);
  const keep = Math.min(rows.length, steps);
  const kept = truncating === "pre" ? rows.slice(rows.length - keep) : rows.slice(0, keep);
  return T.fromDataOrThrow(kept.flat(), [keep, ...features], dtype);
};
