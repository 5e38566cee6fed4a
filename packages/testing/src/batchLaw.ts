/**
 * @file The batchCoverage law: an epoch of `batches` holds every sample exactly once (at most
 * once with `dropLast`, and fewer than a batch short per bucket), the same key gives the same
 * batches bit for bit, each batch's tensors hold its samples (and their labels), bucket bounds
 * are respected, and the reported padding fractions are what the masks count.
 */
import * as T from "@rewind/tensor";
import type * as A from "@rewind/autodiff";
import type { batches as rewindBatches, Batch, PaddedSequences, Sample } from "@rewind/rnn";
import { invalid } from "./args.js";
import { expectClose, violation, type LawCheck } from "./lawKit.js";
import { keptRows, type BatchCoverageCase } from "./sequenceCases.js";

type Unpad = (ys: T.Tensor, lengths: A.Value | readonly number[]) => T.Tensor[];

const LAW = "batchCoverage";

const isSequence = (x: unknown): boolean =>
  Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView)) || T.isTensor(x);

const lengthOf = (s: unknown): number => (T.isTensor(s) ? s.shape[0]! : (s as ArrayLike<unknown>).length);

/** The sequence fields (`undefined`: the sample itself) and number fields of a dataset. */
const fieldsOf = (dataset: readonly Sample[]): { seqs: (string | undefined)[]; numbers: string[] } => {
  const first = dataset[0];
  if (isSequence(first)) return { seqs: [undefined], numbers: [] };
  const keys = Object.keys(first as object);
  const rec = first as Readonly<Record<string, unknown>>;
  return {
    seqs: keys.filter((k) => typeof rec[k] !== "number"),
    numbers: keys.filter((k) => typeof rec[k] === "number"),
  };
};

const fieldOf = (sample: Sample, field: string | undefined): unknown =>
  field === undefined ? sample : (sample as Readonly<Record<string, unknown>>)[field];

const paddedOf = (data: unknown, field: string | undefined): PaddedSequences =>
  (field === undefined ? data : (data as Readonly<Record<string, unknown>>)[field]) as PaddedSequences;

/**
 * Checks one instance of the batchCoverage law with the `batches` and `unpadSequences` under test.
 * @example
 * const c = { dataset: [[1], [2, 3]], key: random.key(0), options: { batchSize: 1 } };
 * checkBatchCoverage(c, batches, unpadSequences);
 */
export const checkBatchCoverage = (c: BatchCoverageCase, batches: typeof rewindBatches, unpad: Unpad): void => {
  const op = "sequenceLawChecks.batchCoverage";
  if (!Array.isArray(c.dataset) || c.dataset.length === 0)
    invalid(op, "c.dataset", "must be a non-empty array of samples");
  if (!T.random.isKey(c.key)) invalid(op, "c.key", "must be a PRNG key");
  if (typeof c.options !== "object" || c.options === null) invalid(op, "c.options", "must be the options of batches");
  const o = c.options;
  const shown = { ...o, bucketBy: typeof o.bucketBy === "function" ? "<function>" : o.bucketBy };
  const name = `${c.dataset.length} samples batched with ${JSON.stringify(shown)}`;
  const exact: LawCheck = { law: LAW, instance: name, options: { rtol: 0, atol: 0 } };
  const epoch = batches(c.key, c.dataset, o);
  const again = batches(c.key, c.dataset, o);
  if (JSON.stringify(again.indices) !== JSON.stringify(epoch.indices))
    violation(LAW, name, "a second call with the same key gave other batches (indices differ)");
  const all: Batch<unknown>[] = [...epoch];
  if (all.length !== epoch.length)
    violation(LAW, name, `iterating gave ${all.length} batches, length says ${epoch.length}`);

  const seen = new Array<number>(c.dataset.length).fill(0);
  for (const idx of epoch.indices)
    for (const i of idx) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= c.dataset.length)
        violation(LAW, name, `a batch holds the index ${String(i)}, which is no sample of ${c.dataset.length}`);
      seen[i]! += 1;
    }
  const twice = seen.findIndex((n) => n > 1);
  if (twice >= 0) violation(LAW, name, `sample ${twice} is in ${seen[twice]} batches of one epoch`);
  const missing = seen.filter((n) => n === 0).length;
  const buckets = o.buckets?.length ?? 1;
  if (o.dropLast !== true ? missing > 0 : missing >= o.batchSize * buckets)
    violation(
      LAW,
      name,
      `${missing} samples (first: ${seen.indexOf(0)}) are in no batch` +
        (o.dropLast === true ? ` (dropLast may leave out fewer than ${o.batchSize} per bucket)` : ""),
    );

  const { seqs, numbers } = fieldsOf(c.dataset);
  const cap = Math.min(o.maxLength ?? Infinity, o.buckets?.[o.buckets.length - 1] ?? Infinity);
  let paddedSteps = 0;
  let totalSteps = 0;
  all.forEach((b, j) => {
    expectClose(exact, `batch ${j} of a second call with the same key`, again.at(j).data, b.data, "data");
    if (b.indices.length === 0 || b.indices.length > o.batchSize)
      violation(LAW, name, `batch ${j} holds ${b.indices.length} samples (batchSize ${o.batchSize})`);
    let padded = 0;
    let total = 0;
    for (const field of seqs) {
      const p = paddedOf(b.data, field);
      const steps = p.xs.shape[1]!;
      const pieces = unpad(p.xs, p.lengths);
      b.indices.forEach((i, r) => {
        // Only an explicit truncation may shorten a sample.
        const limit = o.truncating === undefined ? Infinity : steps;
        const want = keptRows(fieldOf(c.dataset[i]!, field), limit, o.truncating, p.xs.dtype, p.xs.shape.slice(2));
        expectClose(
          exact,
          `row ${r} of batch ${j} vs sample ${i}${field === undefined ? "" : `.${field}`}`,
          pieces[r],
          want,
          "xs",
        );
      });
      const valid = Array.from(p.mask.data).reduce((s, m) => s + m, 0);
      padded += p.mask.data.length - valid;
      total += p.mask.data.length;
      if (o.buckets !== undefined && (o.bucketBy === undefined || o.bucketBy === "length")) {
        const bound = o.buckets[b.bucket];
        if (steps !== bound)
          violation(LAW, name, `batch ${j} of bucket ${b.bucket} is padded to ${steps}, not to its bound ${bound}`);
        const below = b.bucket === 0 ? 0 : o.buckets[b.bucket - 1]!;
        for (const i of b.indices) {
          const key = Math.max(...seqs.map((f) => Math.min(lengthOf(fieldOf(c.dataset[i]!, f)), cap)));
          if (key <= below || key > bound!)
            violation(
              LAW,
              name,
              `sample ${i} (length ${key}) is in bucket ${b.bucket} (lengths ${below + 1}..${bound})`,
            );
        }
      }
    }
    for (const field of numbers) {
      const got = (b.data as Readonly<Record<string, T.Tensor>>)[field]!;
      const want = b.indices.map((i) => (c.dataset[i] as Readonly<Record<string, number>>)[field]!);
      expectClose(exact, `the ${field} of batch ${j}`, got, T.fromDataOrThrow(want, [want.length], got.dtype), field);
    }
    const fraction = total === 0 ? 0 : padded / total;
    if (Math.abs(b.paddingFraction - fraction) > 1e-12)
      violation(
        LAW,
        name,
        `batch ${j} reports a padding fraction of ${b.paddingFraction}; its masks count ${fraction}`,
      );
    paddedSteps += padded;
    totalSteps += total;
  });
  const want = { paddedSteps, totalSteps, fraction: totalSteps === 0 ? 0 : paddedSteps / totalSteps };
  if (
    epoch.padding.paddedSteps !== want.paddedSteps ||
    epoch.padding.totalSteps !== want.totalSteps ||
    Math.abs(epoch.padding.fraction - want.fraction) > 1e-12
  )
    violation(
      LAW,
      name,
      `the epoch reports padding ${JSON.stringify(epoch.padding)}; its masks count ${JSON.stringify(want)}`,
    );
};
