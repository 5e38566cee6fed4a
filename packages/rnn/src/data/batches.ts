/**
 * @file `batches`: one epoch of padded batches from a dataset of ragged sequences, pure and
 * driven by a key (the same key gives the same batches, bit for bit; nothing reads
 * `Math.random`), with optional bucketing by length so that padding stays small.
 *
 * The plan (which samples go together) is computed at once; each batch's tensors are built only
 * when it is reached, so an epoch over a large dataset never holds every padded batch at once.
 */
import * as T from "@rewind/tensor";
import { check, flag, keysOf, optional, positiveInt, rule } from "@rewind/tensor/internal/check";
import { checkOptions } from "../util.js";
import { readDataset, type PerField, type Sample } from "./dataset.js";
import { fill, PAD_OPTION_KEYS, readPadOptions, refuseTooLong, type PaddedSequences, type PadOptions } from "./pad.js";
import { planBatches, type PlannedBatch } from "./plan.js";
import type { Sequence } from "./ragged.js";

/** Options of `batches`. */
export interface BatchOptions<S> extends Omit<PadOptions, "padValue" | "dtype"> {
  /** Samples per batch (the last batch of an epoch, or of a bucket, may be smaller unless `dropLast`). */
  readonly batchSize: number;
  /** Shuffle the samples (and, when grouping by length, the batches) with the key (default true). */
  readonly shuffle?: boolean;
  /** Leave out the incomplete last batch of the epoch (of each bucket, with `buckets`) (default false). */
  readonly dropLast?: boolean;
  /**
   * Group samples of similar length. `"length"`: a sample's length (for records, its longest
   * sequence field, after truncation); or a function of the sample and its index. Without
   * `buckets`, samples are sorted by it and cut into batches, each padded to its longest sample.
   */
  readonly bucketBy?: "length" | ((sample: S, index: number) => number);
  /**
   * Bucket bounds, ascending: each sample goes to the first bucket whose bound is ≥ its length
   * (implies `bucketBy: "length"` unless given), and every batch of a bucket is padded to its
   * bound, so a jitted step sees one shape per bucket (`[128]` alone gives fixed shapes). A
   * sample longer than the last bound is refused unless `truncating` is given.
   */
  readonly buckets?: readonly number[];
  /**
   * The longest sequence allowed; longer ones are refused unless `truncating` is given. Unlike in
   * `padSequences`, it does not set the padded length (batches are padded to their longest
   * sample, or to their bucket's bound).
   */
  readonly maxLength?: number;
  /** The padding value, for every sequence field or by field name (default 0). */
  readonly padValue?: PerField<number>;
  /** The dtype, for every field or by field name (defaults as in `padSequences`; int32 for numbers). */
  readonly dtype?: PerField<T.DType>;
}

/** The tensors of one batch: padded sequences, or a record of padded fields and `[B]` numbers. */
export type BatchData<S> = S extends Sequence
  ? PaddedSequences
  : { readonly [K in keyof S]: S[K] extends number ? T.Tensor : PaddedSequences };

/** One batch of an epoch. */
export interface Batch<D> {
  /** The tensors (a pytree of tensors: pass it straight to a jitted step). */
  readonly data: D;
  /** The dataset indices of its samples, in batch order. */
  readonly indices: readonly number[];
  /** The index of its bucket in `buckets` (0 without buckets). */
  readonly bucket: number;
  /** The fraction of its time steps (over every sequence field) that are padding. */
  readonly paddingFraction: number;
}

/** How much of an epoch is padding, counted in time steps over every sequence field. */
export interface PaddingSummary {
  /** Padded steps. */
  readonly paddedSteps: number;
  /** All steps of all padded tensors (B · T summed over batches and sequence fields). */
  readonly totalSteps: number;
  /** `paddedSteps / totalSteps` (0 for an epoch without steps). */
  readonly fraction: number;
}

/** One epoch of batches: iterate it (as often as you like: each pass gives the same batches). */
export interface Epoch<D> extends Iterable<Batch<D>> {
  /** The number of batches. */
  readonly length: number;
  /** Builds batch `i` (0 ≤ i < length). */
  readonly at: (i: number) => Batch<D>;
  /** The dataset indices of every batch, without building any tensor. */
  readonly indices: readonly (readonly number[])[];
  /** The padding of the whole epoch. */
  readonly padding: PaddingSummary;
}

const BATCH_OPTION_KEYS: readonly string[] = [
  ...PAD_OPTION_KEYS,
  ...keysOf<Pick<BatchOptions<unknown>, "batchSize" | "shuffle" | "dropLast" | "bucketBy" | "buckets">>({
    batchSize: true,
    shuffle: true,
    dropLast: true,
    bucketBy: true,
    buckets: true,
  }),
];

const bucketByRule = optional(
  rule(
    '"length" or a function',
    (x) => x === "length" || typeof x === "function",
    'pass "length" or (sample, i) => number',
  ),
);
const boundsRule = optional(
  rule(
    "a non-empty array of ascending integers ≥ 1",
    (x) =>
      Array.isArray(x) &&
      x.length > 0 &&
      x.every(
        (b, i) => Number.isSafeInteger(b) && (b as number) >= 1 && (i === 0 || (b as number) > (x[i - 1] as number)),
      ),
    "pass the padded lengths of the buckets in ascending order, e.g. [8, 16, 32]",
  ),
);
const keyRule = rule(
  "a PRNG key",
  (k) => T.random.isKey(k),
  "pass random.key(seed), e.g. random.foldIn(key, epoch) per epoch",
);

/**
 * One epoch of padded batches of `dataset`: samples are sequences (token ids, feature vectors,
 * `[T_i, ...]` tensors) or records of sequences and numbers (e.g. `{ ids, label }`, or source and
 * target). Pure: the same key and dataset give the same batches; fold the epoch into the key
 * for a new order each epoch. With `shuffle` the samples are permuted by the key; `bucketBy` /
 * `buckets` group similar lengths (then the batch order is shuffled too); each batch reports
 * its padding fraction, and the epoch its total. Every sample is checked when this is called.
 * @throws TensorException naming the sample index (and field) for empty sequences (unless
 * `allowEmpty`), a sequence longer than `maxLength` or the last bucket (unless `truncating`),
 * mixed forms, feature sizes or dtypes, non-integer ids, records with other fields; and for bad
 * options.
 * @example
 * for (const b of batches(random.foldIn(key, epoch), names, { batchSize: 32, buckets: [8, 16] }))
 *   step(b.data.xs, b.data.lengths); // b.paddingFraction: the share of padded steps
 */
export const batches = <S extends Sample>(
  key: T.Key,
  dataset: readonly S[],
  options: BatchOptions<NoInfer<S>>,
): Epoch<BatchData<S>> => {
  const op = "batches";
  check(op, "key", key, keyRule);
  checkOptions(op, "options", options, BATCH_OPTION_KEYS, true);
  const pad = readPadOptions(op, "options", withoutFieldSettings(options));
  const batchSize = check(op, "options.batchSize", options.batchSize, positiveInt);
  const shuffle = check(op, "options.shuffle", options.shuffle, flag) ?? true;
  const dropLast = check(op, "options.dropLast", options.dropLast, flag) ?? false;
  const bounds = check(op, "options.buckets", options.buckets, boundsRule);
  const bucketBy = check(op, "options.bucketBy", options.bucketBy, bucketByRule) ?? (bounds ? "length" : undefined);
  const read = readDataset(op, dataset, {
    padValue: options.padValue,
    dtype: options.dtype,
    allowEmpty: pad.allowEmpty,
  });
  const argOf = (i: number, name: string | undefined) => `dataset[${i}]${name === undefined ? "" : `.${name}`}`;

  // The longest a sequence may stay: maxLength, and the last bucket's bound.
  const cap = Math.min(pad.maxLength ?? Infinity, bounds?.[bounds.length - 1] ?? Infinity);
  if (pad.truncating === undefined)
    for (const f of read.sequences)
      f.ragged.lengths.forEach((n, i) => {
        if (n > cap) refuseTooLong(op, argOf(i, f.name), i, n, cap, ...capText(cap, n, pad.maxLength, bounds));
      });
  const kept = (n: number): number => Math.min(n, cap);
  const keys =
    bucketBy === undefined
      ? undefined
      : dataset.map((s, i) => {
          const k =
            bucketBy === "length"
              ? Math.max(0, ...read.sequences.map((f) => kept(f.ragged.lengths[i]!)))
              : bucketBy(s, i);
          if (typeof k !== "number" || Number.isNaN(k))
            T.fail({
              _tag: "ValueError",
              op,
              arg: "options.bucketBy",
              detail: `bucketBy returned ${String(k)} for sample ${i}`,
              fix: "return a number (the sample's length) for every sample",
            });
          return k;
        });
  if (bounds !== undefined) checkBuckets(op, keys!, bounds, read.sequences, pad.truncating !== undefined, argOf);

  const planned = planBatches({ count: dataset.length, batchSize, shuffle, dropLast, key, keys, bounds });
  const stepsOf = (p: PlannedBatch, lengths: readonly number[]): number =>
    bounds !== undefined ? bounds[p.bucket]! : Math.max(0, ...p.indices.map((i) => kept(lengths[i]!)));
  const fraction = (p: PlannedBatch): [number, number] => {
    let padded = 0;
    let total = 0;
    for (const f of read.sequences) {
      const steps = stepsOf(p, f.ragged.lengths);
      total += steps * p.indices.length;
      for (const i of p.indices) padded += steps - Math.min(f.ragged.lengths[i]!, steps);
    }
    return [padded, total];
  };
  const at = (b: number): Batch<BatchData<S>> => {
    const p = planned[b];
    if (p === undefined)
      return T.fail({
        _tag: "ValueError",
        op: "batches(…).at",
        arg: "i",
        detail: `there is no batch ${String(b)} in an epoch of ${planned.length}`,
        fix: `pass an integer in [0, ${planned.length})`,
      });
    const entries: [string | undefined, unknown][] = read.sequences.map((f) => [
      f.name,
      fill(f.ragged, p.indices, stepsOf(p, f.ragged.lengths), { ...pad, padValue: f.padValue }),
    ]);
    for (const f of read.numbers) entries.push([f.name, f.take(p.indices)]);
    const data: unknown = read.records ? Object.fromEntries(entries) : entries[0]![1];
    const [padded, total] = fraction(p);
    return {
      data: data as BatchData<S>,
      indices: p.indices,
      bucket: p.bucket,
      paddingFraction: total === 0 ? 0 : padded / total,
    };
  };
  const sums = planned.map(fraction).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
  return {
    length: planned.length,
    at,
    indices: planned.map((p) => p.indices),
    padding: { paddedSteps: sums[0], totalSteps: sums[1], fraction: sums[1] === 0 ? 0 : sums[0] / sums[1] },
    *[Symbol.iterator]() {
      for (let b = 0; b < planned.length; b++) yield at(b);
    },
  };
};

/** The options that are the same for every field (padValue and dtype may be per field). */
const withoutFieldSettings = ({ padValue: _p, dtype: _d, ...rest }: BatchOptions<never>): PadOptions => rest;

/** Where the longest allowed length comes from, and how to raise it to `n`. */
const capText = (
  cap: number,
  n: number,
  maxLength: number | undefined,
  bounds: readonly number[] | undefined,
): [string, string] =>
  maxLength === cap
    ? [`maxLength ${cap}`, `raise maxLength to ${n}${bounds === undefined ? "" : " (and add a bucket that holds it)"}`]
    : [`the last bucket's bound ${cap} (options.buckets ${JSON.stringify(bounds)})`, `add a bucket ≥ ${n}`];

/** Every key fits a bucket, and every sequence fits its bucket's bound (unless truncating). */
const checkBuckets = (
  op: string,
  keys: readonly number[],
  bounds: readonly number[],
  sequences: ReturnType<typeof readDataset>["sequences"],
  truncating: boolean,
  argOf: (i: number, name: string | undefined) => string,
): void => {
  const last = bounds[bounds.length - 1]!;
  keys.forEach((k, i) => {
    if (k > last)
      T.fail({
        _tag: "ValueError",
        op,
        arg: "options.bucketBy",
        detail: `bucketBy gives sample ${i} the length ${k}, more than the last bucket's bound ${last}`,
        fix: `add a bucket ≥ ${k} to options.buckets, or return lengths up to ${last}`,
      });
    const bound = bounds.find((b) => k <= b)!;
    if (!truncating)
      for (const f of sequences) {
        const n = f.ragged.lengths[i]!;
        if (n > bound)
          refuseTooLong(
            op,
            argOf(i, f.name),
            i,
            n,
            bound,
            `its bucket's bound ${bound} (bucketBy gave it ${k})`,
            "make bucketBy return at least its length",
          );
      }
  });
};
