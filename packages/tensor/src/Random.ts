/**
 * @file The samplers that consume explicit, splittable random keys (JAX's model); the keys
 * themselves and their raw bits are in `randomKey.ts`, re-exported here as the `random` namespace.
 *
 * A `Key` is an immutable pair of uint32 words. Nothing is ever drawn "from" a key in place:
 * `split` derives fresh child keys, and every sampler is a pure function of `(key, shape)`. Bits
 * come from Threefry-2x32-20 (see `threefry.ts`): element `i` of a sample is a hash of the counter
 * `(0, i)` under the key, so the result does not depend on call order, and is the same on every
 * machine. The counter layout follows JAX's "partitionable" Threefry (its default since 0.5):
 * child `i` of `split` is the hash of `(0, i)`, `foldIn(key, d)` hashes `(hi(d), lo(d))`, and a
 * 32-bit sample word is the xor of the two output words. As in JAX, reusing a key for two
 * different purposes gives correlated results; split it instead. No `Math.random` anywhere.
 */
import { checkOptions, checkTensor } from "./check.js";
import { allocate, type DType } from "./DType.js";
import { fail } from "./errors.js";
import { showValue } from "./internal.js";
import { normalizeAxis, sizeOf, validateShape, type Shape } from "./Shape.js";
import { fromBuffer, type Tensor } from "./Tensor.js";
import { threefry2x32Into } from "./threefry.js";
import { uniformRange } from "./uniformRange.js";
import { checkKey, forEachBlock, TWO32, TWO52, TWO53, unit53, type Key } from "./randomKey.js";

export { foldIn, isKey, key, randomBits, split, type Key } from "./randomKey.js";

const checkFloatDType = (op: string, dtype: DType): "float32" | "float64" =>
  dtype === "float32" || dtype === "float64"
    ? dtype
    : fail({
        _tag: "DTypeError",
        op,
        arg: "dtype",
        detail: `${op} draws floating-point numbers, got dtype ${showValue(dtype)}`,
        fix: 'use "float32" or "float64" (and astype afterwards if you need integers)',
      });

/**
 * Options of `uniform`: the half-open range `[min, max)` and the float dtype.
 * @example const opts: UniformOptions = { min: -1, max: 1, dtype: "float64" };
 */
export interface UniformOptions {
  /** Lower bound, included (default 0). */
  readonly min?: number;
  /** Upper bound, excluded (default 1). */
  readonly max?: number;
  /** A float dtype for the samples (default `float32`). */
  readonly dtype?: DType;
}

/**
 * Uniform samples in `[min, max)` (default `[0, 1)`, `float32`). As in JAX, a float32 sample
 * puts 23 random bits in the mantissa (`bits >>> 9`) and a float64 sample 52 bits, giving an
 * evenly spaced grid on [0, 1) that is then scaled. Results are clamped to the representable
 * range of the dtype, so `max` is never returned even after rounding.
 * @throws TensorException when `min < max` fails or a bound is not finite, or the dtype is not a float.
 * @example uniform(key(0), [2, 3], { min: -1, max: 1 }).shape // [2, 3]
 */
export const uniform = (k: Key, shape: Shape, options: UniformOptions = {}): Tensor => {
  const kk = checkKey("uniform", k);
  const sh = validateShape("uniform", "shape", shape);
  const {
    min = 0,
    max = 1,
    dtype = "float32",
  } = checkOptions("uniform", options, ["min", "max", "dtype"]) as UniformOptions;
  const dt = checkFloatDType("uniform", dtype);
  const range = uniformRange(min, max, dt);
  if (range === undefined) {
    return fail({
      _tag: "ValueError",
      op: "uniform",
      arg: "min, max",
      detail: `the range [${min}, ${max}) must be finite and contain a ${dt} value`,
      fix: "pass finite bounds with min < max",
    });
  }
  const [lo, hi, halfSpan] = range;
  const round = dt === "float32" ? Math.fround : (x: number): number => x;
  const out = allocate(dt, sizeOf(sh));
  forEachBlock(kk, out.length, (i, w0, w1) => {
    const u = dt === "float32" ? ((w0 ^ w1) >>> 9) / 8388608 : (w0 * 1048576 + (w1 >>> 12)) / TWO52;
    const v = round(min + 2 * (u * halfSpan));
    out[i] = v < lo ? lo : v > hi ? hi : v;
  });
  return fromBuffer(dt, sh, out);
};

/**
 * Standard normal samples (mean 0, variance 1) by the Box–Muller transform, one block per
 * element: `sqrt(-2 ln u1) · cos(2π u2)` with `u1 = (w0 + 1) / 2^32` in (0, 1], so the log is
 * never of 0. With 32-bit uniforms, samples are bounded by about ±6.66 (probability beyond that
 * under a true normal: 2.7e-11). Computed in float64, then stored in `dtype`.
 * @example normal(key(0), [1000], "float64").dtype // "float64"
 */
export const normal = (k: Key, shape: Shape, dtype: DType = "float32"): Tensor => {
  const kk = checkKey("normal", k);
  const sh = validateShape("normal", "shape", shape);
  const dt = checkFloatDType("normal", dtype);
  const out = allocate(dt, sizeOf(sh));
  forEachBlock(kk, out.length, (i, w0, w1) => {
    const u1 = (w0 + 1) / TWO32;
    const u2 = w1 / TWO32;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
  return fromBuffer(dt, sh, out);
};

/**
 * `bool` samples that are true with probability `p` (element `i` is `u_i < p` for a 53-bit
 * uniform `u_i`, so `p = 0` never and `p = 1` always gives true).
 * @throws TensorException when `p` is not in [0, 1].
 * @example bernoulli(key(0), 0.5, [10]).dtype // "bool"
 */
export const bernoulli = (k: Key, p: number, shape: Shape): Tensor => {
  const kk = checkKey("bernoulli", k);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    return fail({
      _tag: "ValueError",
      op: "bernoulli",
      arg: "p",
      detail: `p must be a probability in [0, 1], got ${showValue(p)}`,
      fix: "pass the probability of true, e.g. 0.5",
    });
  }
  const sh = validateShape("bernoulli", "shape", shape);
  const out = new Uint8Array(sizeOf(sh));
  forEachBlock(kk, out.length, (i, w0, w1) => {
    out[i] = unit53(w0, w1) < p ? 1 : 0;
  });
  return fromBuffer("bool", sh, out);
};

/**
 * Samples one index along `axis` per slice of `logits` (unnormalised log-probabilities), by the
 * Gumbel-max trick: `argmax(logits + g)` with `g = -log(-log(u))`, `u` in (0, 1). The result has
 * the shape of `logits` without `axis`, dtype `int32`. A `-Infinity` logit is never chosen unless
 * its whole slice is `-Infinity` (then 0, as JAX). Like NumPy's `argmax`, a NaN logit wins, so
 * NaN in gives a visible result rather than an exception.
 * @throws TensorException for a scalar or `bool` tensor, a bad axis, or an empty `axis`.
 * @example categorical(key(0), tensor([[0, 0, -Infinity]])).shape // [1]
 */
export const categorical = (k: Key, logits: Tensor, axis = -1): Tensor => {
  const kk = checkKey("categorical", k);
  checkTensor("categorical", "logits", logits);
  if (logits.dtype === "bool") {
    return fail({
      _tag: "DTypeError",
      op: "categorical",
      arg: "logits",
      detail: "logits must be numbers, got a bool tensor",
      fix: 'pass float logits (astype(t, "float32"))',
    });
  }
  const rank = logits.shape.length;
  const ax =
    rank === 0
      ? fail({ _tag: "AxisError", op: "categorical", arg: "axis", axis, rank })
      : normalizeAxis("categorical", "axis", axis, rank);
  const classes = logits.shape[ax]!;
  const outShape = logits.shape.filter((_, i) => i !== ax);
  const outer = sizeOf(logits.shape.slice(0, ax));
  const inner = sizeOf(logits.shape.slice(ax + 1));
  if (classes === 0 && outer * inner > 0) {
    return fail({
      _tag: "ShapeError",
      op: "categorical",
      arg: "logits",
      shapes: [logits.shape],
      detail: `axis ${ax} has no classes to sample from`,
      fix: "give the sampled axis at least one logit",
    });
  }
  // One Gumbel variate per logit, indexed by the logit's flat position.
  const scores = new Float64Array(logits.data.length);
  forEachBlock(kk, scores.length, (i, w0, w1) => {
    // 52 bits plus one half: strictly inside (0, 1) even after rounding, so both logs are finite.
    const u = ((w0 >>> 6) * 67108864 + (w1 >>> 6) + 0.5) / TWO52;
    scores[i] = logits.data[i]! - Math.log(-Math.log(u));
  });
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < classes; c++) {
        const s = scores[(o * classes + c) * inner + j]!;
        if (Number.isNaN(s)) {
          best = c;
          break;
        }
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      out[o * inner + j] = best;
    }
  }
  return fromBuffer("int32", outShape, out);
};

/**
 * A random ordering of `0, 1, ..., n - 1` as an `int32` vector: Fisher–Yates where step `i` draws
 * an index in `[0, i]` from the block at counter `(attempt, i)` by exact rejection sampling on 53
 * bits, so every permutation is equally likely.
 * @throws TensorException when `n` is not an integer in [0, 2^31 − 1].
 * @example permutation(key(0), 5).shape // [5]
 */
export const permutation = (k: Key, n: number): Tensor => {
  const [k0, k1] = checkKey("permutation", k).words;
  if (!Number.isSafeInteger(n) || n < 0 || n > 2147483647) {
    return fail({
      _tag: "ValueError",
      op: "permutation",
      arg: "n",
      detail: `n must be an integer in [0, 2^31 - 1], got ${n}`,
      fix: "pass the number of items to order",
    });
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const block = new Uint32Array(2);
  for (let i = n - 1; i > 0; i--) {
    const m = i + 1;
    const limit = TWO53 - (TWO53 % m); // the largest multiple of m not above 2^53
    let j = -1;
    for (let attempt = 0; j < 0; attempt++) {
      threefry2x32Into(k0, k1, attempt, i, block);
      const r = (block[0]! >>> 11) * TWO32 + block[1]!; // 53 bits
      if (r < limit) j = r % m;
    }
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return fromBuffer("int32", [n], out);
};
