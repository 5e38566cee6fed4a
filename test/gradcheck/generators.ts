/**
 * @file fast-check generators for gradient checks: shapes first, then float64 data on a domain
 * (chained, so a failure shrinks to the smallest shape), plus broadcast-compatible shapes, tensors
 * without ties, and integer index tensors.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";

/** Shape bounds; small, because checkGrads' cost is dominated by tracing, not by sizes. */
export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly minDim?: number;
  readonly maxDim?: number;
}

/** A shape of rank in [minRank, maxRank] (default 0..3) with dims in [minDim, maxDim] (default 1..3). */
export const arbShape = (o: ShapeOptions = {}): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 3 }), {
    minLength: o.minRank ?? 0,
    maxLength: o.maxRank ?? 3,
  });

/** Reals in [lo, hi] (finite, no NaN). */
export const real = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });

/** Reals with lo ≤ |x| ≤ hi, either sign: keeps away from a kink or pole at 0. */
export const awayFromZero = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.tuple(fc.boolean(), real(lo, hi)).map(([negative, v]) => (negative ? -v : v));

/** k + frac with frac in [lo, hi] ⊂ (0, 1): keeps away from the integers (floor/ceil jumps) or, with [0.1, 0.4] ∪ [0.6, 0.9], from half-integers too. */
export const offGrid = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.tuple(fc.integer({ min: -3, max: 3 }), real(lo, hi)).map(([k, frac]) => k + frac);

/** A float64 tensor of `shape` with entries from `domain`. */
export const tensorOf = (shape: readonly number[], domain: fc.Arbitrary<number>): fc.Arbitrary<T.Tensor> => {
  const n = T.sizeOf(shape);
  return fc.array(domain, { minLength: n, maxLength: n }).map((d) => T.fromDataOrThrow(d, shape, "float64"));
};

/** A float64 tensor of a generated shape with entries from `domain`. */
export const arbTensor = (domain: fc.Arbitrary<number>, o: ShapeOptions = {}): fc.Arbitrary<T.Tensor> =>
  arbShape(o).chain((s) => tensorOf(s, domain));

/**
 * A float64 tensor of `shape` whose entries are pairwise at least 0.06 apart, so no reduction or
 * argmax along any axis has a tie (distinct multiples of 0.1 plus noise below 0.02).
 */
export const distinctTensorOf = (shape: readonly number[]): fc.Arbitrary<T.Tensor> => {
  const n = T.sizeOf(shape);
  return fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: n, maxLength: n }),
      fc.array(real(-0.02, 0.02), { minLength: n, maxLength: n }),
    )
    .map(([ks, noise]) =>
      T.fromDataOrThrow(
        ks.map((k, i) => k * 0.1 + noise[i]!),
        shape,
        "float64",
      ),
    );
};

/**
 * A shape that broadcasts to `out` (NumPy rules): some leading axes dropped, some axes set to 1.
 */
export const broadcastableTo = (out: readonly number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    )
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

/** An output shape and two operand shapes that broadcast to it. */
export const arbBroadcastShapes = (o: ShapeOptions = {}): fc.Arbitrary<{ out: number[]; a: number[]; b: number[] }> =>
  arbShape(o).chain((out) => fc.record({ out: fc.constant(out), a: broadcastableTo(out), b: broadcastableTo(out) }));

/** An int32 tensor of `shape` with entries in [lo, hi]. */
export const intTensorOf = (shape: readonly number[], lo: number, hi: number): fc.Arbitrary<T.Tensor> => {
  const n = T.sizeOf(shape);
  return fc
    .array(fc.integer({ min: lo, max: hi }), { minLength: n, maxLength: n })
    .map((d) => T.fromDataOrThrow(d, shape, "int32"));
};

/** A bool tensor of `shape`. */
export const boolTensorOf = (shape: readonly number[]): fc.Arbitrary<T.Tensor> => {
  const n = T.sizeOf(shape);
  return fc
    .array(fc.boolean(), { minLength: n, maxLength: n })
    .map((d) => T.fromDataOrThrow(d.map(Number), shape, "bool"));
};

/**
 * A subset of the axes of a rank-`rank` tensor (sorted). Drawn as a boolean mask: `fc.subarray`
 * inside a `chain` is biased so strongly towards the empty subset that reductions went untested.
 */
export const arbAxes = (rank: number): fc.Arbitrary<number[]> =>
  fc.array(fc.boolean(), { minLength: rank, maxLength: rank }).map((mask) => mask.flatMap((on, i) => (on ? [i] : [])));

/** A permutation of 0..rank−1. */
export const arbPerm = (rank: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(
    Array.from({ length: rank }, (_, i) => i),
    { minLength: rank, maxLength: rank },
  );

/** `f64[2,3]`-style text of tensors' shapes, for case labels. */
export const shapes = (...ts: readonly T.Tensor[]): string => ts.map((t) => `[${t.shape.join(",")}]`).join(" ");
