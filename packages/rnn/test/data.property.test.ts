/**
 * @file Sequence data over random datasets: `padSequences` puts every sample's steps where its
 * padding side says, the pad value and a false mask everywhere else, and `unpadSequences` gives
 * the samples back (truncation keeps the documented end); `batches` covers an epoch exactly once
 * (or leaves out less than a batch per bucket with `dropLast`), never exceeds the batch size,
 * pads each batch to its longest sample or its bucket's bound, puts each sample in the first
 * bucket that holds it, reports the padding it made, and gives the same epoch for the same key.
 * data-batches.test.ts and data-pad.test.ts have the examples.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { batches, padSequences, unpadSequences } from "@rewind/rnn";

/** Token-id sequences of 1–12 steps. */
const arbDataset = (maxSamples: number) =>
  fc.array(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 12 }), {
    minLength: 1,
    maxLength: maxSamples,
  });

const rowsOf = (t: T.Tensor): number[][] => {
  const [b, time] = t.shape as [number, number];
  return Array.from({ length: b }, (_, i) => Array.from(t.data.slice(i * time, (i + 1) * time), Number));
};

describe("padSequences and unpadSequences on random datasets", () => {
  it("every step where its side says, the pad value and a false mask elsewhere; unpadding gives the samples back", () => {
    fc.assert(
      fc.property(
        arbDataset(10),
        fc.constantFrom("pre" as const, "post" as const),
        fc.integer({ min: -5, max: 99 }),
        fc.nat(3),
        (seqs, padding, padValue, extra) => {
          const longest = Math.max(...seqs.map((s) => s.length));
          const { xs, lengths, mask } = padSequences(seqs, { padding, padValue, maxLength: longest + extra });
          const time = longest + extra;
          expect(xs.shape).toEqual([seqs.length, time]);
          expect(Array.from(lengths.data)).toEqual(seqs.map((s) => s.length));
          const want = seqs.map((s) => {
            const pad = Array<number>(time - s.length).fill(padValue);
            return padding === "post" ? [...s, ...pad] : [...pad, ...s];
          });
          expect(rowsOf(xs)).toEqual(want);
          expect(rowsOf(mask)).toEqual(
            seqs.map((s) =>
              Array.from({ length: time }, (_, t) =>
                (padding === "post" ? t < s.length : t >= time - s.length) ? 1 : 0,
              ),
            ),
          );
          const back = unpadSequences(xs, lengths, { padding });
          expect(back.map((t) => Array.from(t.data, Number))).toEqual(seqs);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("truncating keeps the first (post) or last (pre) maxLength steps", () => {
    fc.assert(
      fc.property(
        arbDataset(8),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("pre" as const, "post" as const),
        (seqs, maxLength, truncating) => {
          const { xs, lengths } = padSequences(seqs, { maxLength, truncating });
          const kept = seqs.map((s) =>
            s.length <= maxLength ? s : truncating === "post" ? s.slice(0, maxLength) : s.slice(-maxLength),
          );
          expect(Array.from(lengths.data)).toEqual(kept.map((s) => s.length));
          expect(unpadSequences(xs, lengths).map((t) => Array.from(t.data, Number))).toEqual(kept);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("batches on random datasets", () => {
  it("an epoch covers the dataset once, in batches of its samples padded as documented", () => {
    fc.assert(
      fc.property(
        arbDataset(30),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("none" as const, "length" as const, "buckets" as const),
        fc.uniqueArray(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 3 }),
        fc.nat(1000),
        (seqs, batchSize, shuffle, dropLast, grouping, someBounds, seed) => {
          // Bounds ascending, the last holding the longest sample.
          const bounds = [...new Set([...someBounds, 12])].sort((a, b) => a - b);
          const options = {
            batchSize,
            shuffle,
            dropLast,
            ...(grouping === "length" ? { bucketBy: "length" as const } : {}),
            ...(grouping === "buckets" ? { buckets: bounds } : {}),
          };
          const epoch = batches(T.random.key(seed), seqs, options);
          expect(batches(T.random.key(seed), seqs, options).indices).toEqual(epoch.indices);
          const bucketOf = (len: number): number => bounds.findIndex((b) => b >= len);
          const seen = new Set<number>();
          let [padded, total] = [0, 0];
          for (let i = 0; i < epoch.length; i++) {
            const batch = epoch.at(i);
            expect(batch.indices).toEqual(epoch.indices[i]);
            expect(batch.indices.length).toBeGreaterThan(0);
            expect(batch.indices.length).toBeLessThanOrEqual(batchSize);
            if (dropLast) expect(batch.indices.length).toBe(batchSize);
            for (const k of batch.indices) {
              expect(seen.has(k), `sample ${k} twice`).toBe(false);
              seen.add(k);
            }
            const samples = batch.indices.map((k) => seqs[k]!);
            const { xs, lengths } = batch.data;
            const longest = Math.max(...samples.map((s) => s.length));
            // Padded to the batch's longest sample, or to its bucket's bound.
            expect(xs.shape).toEqual([samples.length, grouping === "buckets" ? bounds[batch.bucket]! : longest]);
            if (grouping === "buckets")
              for (const s of samples) expect(bucketOf(s.length), `a sample of ${s.length} steps`).toBe(batch.bucket);
            expect(unpadSequences(xs, lengths).map((t) => Array.from(t.data, Number))).toEqual(samples);
            const steps = samples.reduce((n, s) => n + s.length, 0);
            padded += xs.shape[0]! * xs.shape[1]! - steps;
            total += xs.shape[0]! * xs.shape[1]!;
            expect(batch.paddingFraction).toBeCloseTo(1 - steps / (xs.shape[0]! * xs.shape[1]!), 12);
          }
          expect(epoch.padding.paddedSteps).toBe(padded);
          expect(epoch.padding.totalSteps).toBe(total);
          // Coverage: everything, or with dropLast all but fewer than a batch per group.
          const groups = grouping === "buckets" ? bounds.length : 1;
          const missing = seqs.length - seen.size;
          if (!dropLast) expect(missing).toBe(0);
          else expect(missing).toBeLessThan(batchSize * groups);
          if (dropLast && grouping === "buckets")
            for (let b = 0; b < bounds.length; b++) {
              const inBucket = seqs.filter((s) => bucketOf(s.length) === b).length;
              const covered = [...seen].filter((k) => bucketOf(seqs[k]!.length) === b).length;
              expect(covered).toBe(inBucket - (inBucket % batchSize));
            }
        },
      ),
      { numRuns: 200 },
    );
  });
});
