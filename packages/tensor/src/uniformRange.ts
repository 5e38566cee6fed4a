/**
 * @file The range of `uniform`'s samples, kept apart from Random.ts (whose exports are the public
 * `random` namespace) so that code generators drawing the same samples on other devices reuse it
 * through `@rewind/tensor/internal/codegen` instead of copying the rounding rules.
 */

/** The next representable value of `x` toward -∞ (`dir = -1`) or +∞ (`dir = 1`) in `dtype`. */
const nextAfter = (x: number, dir: 1 | -1, dtype: "float32" | "float64"): number => {
  if (x === 0) return dir * (dtype === "float32" ? 1.401298464324817e-45 : Number.MIN_VALUE);
  if (dtype === "float32") {
    const f = new Float32Array([x]);
    const bits = new Int32Array(f.buffer);
    bits[0] = bits[0]! + (x > 0 === dir > 0 ? 1 : -1);
    return f[0]!;
  }
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = bits[0]! + (x > 0 === dir > 0 ? 1n : -1n);
  return f[0]!;
};

/**
 * The range of `uniform`'s samples over `[min, max)` in `dt`: the smallest value ≥ min and the
 * largest < max that the dtype holds (a bound beyond the dtype's range stops at its largest finite
 * value), and half the span, which the samples scale by (a tuple: the browser bundle is near its
 * limit); undefined when a bound is not finite or the range holds no value of the dtype.
 * @internal Exported through `@rewind/tensor/internal/codegen` only.
 * @example uniformRange(0, 1, "float32") // [0, 0.99999994, 0.5]
 */
export const uniformRange = (
  min: number,
  max: number,
  dt: "float32" | "float64",
): readonly [lo: number, hi: number, halfSpan: number] | undefined => {
  const round = dt === "float32" ? Math.fround : (x: number): number => x;
  let lo = round(min);
  if (lo < min) lo = nextAfter(lo, 1, dt);
  let hi = round(max);
  if (hi >= max) hi = nextAfter(hi, -1, dt);
  const largest = dt === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  if (lo < -largest) lo = -largest;
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(lo <= hi)) return undefined;
  // Halving before subtracting keeps max - min finite even for bounds near ±Number.MAX_VALUE.
  return [lo, hi, max / 2 - min / 2];
};
