/**
 * @file Which samples go in which batch: pure index arithmetic from a key, with no data. Kept
 * apart from padding so that the plan (and its padding fraction) is known before any tensor is
 * built.
 *
 * The order, for one epoch: shuffle the samples with the first half of `split(key, 2)`; with
 * bucket bounds, deal them (in that order) into the first bucket whose bound holds their length,
 * and cut each bucket into batches; with `bucketBy` but no bounds, sort them by length (stably, so
 * equal lengths stay shuffled) and cut; then, when grouping by length, shuffle the order of the
 * batches with the second half of the key, so that an epoch does not run from short to long.
 */
import * as T from "@rewind/tensor";

/** One planned batch: the dataset indices it holds and the bucket it came from. */
export interface PlannedBatch {
  /** Indices into the dataset, in batch order. */
  readonly indices: readonly number[];
  /** The index of its bucket in the bounds (0 without bounds). */
  readonly bucket: number;
}

/** What the plan needs: sizes, flags, the key, and each sample's length key (when grouping). */
export interface PlanInput {
  readonly count: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly key: T.Key;
  /** Each sample's length key, when batches group similar lengths. */
  readonly keys: readonly number[] | undefined;
  /** Bucket bounds, ascending (each sample goes to the first bound ≥ its key). */
  readonly bounds: readonly number[] | undefined;
}

const chunk = (order: readonly number[], size: number, dropLast: boolean, bucket: number): PlannedBatch[] => {
  const out: PlannedBatch[] = [];
  for (let at = 0; at < order.length; at += size) {
    if (dropLast && at + size > order.length) break;
    out.push({ indices: order.slice(at, at + size), bucket });
  }
  return out;
};

/**
 * The batches of one epoch, as lists of dataset indices (see the file comment for the order).
 * The caller has checked that every key fits a bound.
 * @example
 * planBatches({ count: 5, batchSize: 2, shuffle: false, dropLast: false, key, keys: undefined, bounds: undefined })
 */
export const planBatches = (p: PlanInput): PlannedBatch[] => {
  const [kSamples, kBatches] = T.random.split(p.key, 2) as [T.Key, T.Key];
  const order = p.shuffle
    ? Array.from(T.random.permutation(kSamples, p.count).data)
    : Array.from({ length: p.count }, (_, i) => i);
  if (p.keys === undefined) return chunk(order, p.batchSize, p.dropLast, 0);
  const keys = p.keys;
  let planned: PlannedBatch[];
  if (p.bounds === undefined) {
    // Array.prototype.sort is stable, so samples of equal length keep their shuffled order.
    planned = chunk(
      [...order].sort((a, b) => keys[a]! - keys[b]!),
      p.batchSize,
      p.dropLast,
      0,
    );
  } else {
    const bounds = p.bounds;
    const buckets: number[][] = bounds.map(() => []);
    for (const i of order) buckets[bounds.findIndex((b) => keys[i]! <= b)]!.push(i);
    planned = buckets.flatMap((members, b) => chunk(members, p.batchSize, p.dropLast, b));
  }
  if (!p.shuffle) return planned;
  return Array.from(T.random.permutation(kBatches, planned.length).data, (i) => planned[i]!);
};
