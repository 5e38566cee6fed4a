/**
 * @file Random keys (JAX's model) and the raw bits they give: `key`, `split`, `foldIn`,
 * `randomBits`, and the block iterator every sampler in `Random.ts` draws from.
 *
 * A `Key` is an immutable pair of uint32 words. Bits come from Threefry-2x32-20 (see
 * `threefry.ts`): element `i` of a sample is a hash of the counter `(0, i)` under the key, so the
 * result does not depend on call order, and is the same on every machine. The counter layout
 * follows JAX's "partitionable" Threefry (its default since 0.5): child `i` of `split` is the hash
 * of `(0, i)`, `foldIn(key, d)` hashes `(hi(d), lo(d))`, and a 32-bit sample word is the xor of the
 * two output words.
 */
import { fail } from "./errors.js";
import { showValue } from "./internal.js";
import { sizeOf, validateShape, type Shape } from "./Shape.js";
import { fromBuffer, type Tensor } from "./Tensor.js";
import { threefry2x32Into } from "./threefry.js";

/**
 * An immutable PRNG key: two uint32 words. Build one with `key`, derive more with `split`.
 * @example const k: Key = key(0); // { _tag: "PRNGKey", words: [0, 0] }
 */
export interface Key {
  /** Marks a key record, so a key is never mistaken for a tensor or a plain array. */
  readonly _tag: "PRNGKey";
  /** The two uint32 words of Threefry-2x32's key. */
  readonly words: readonly [number, number];
}

/** 2^32, 2^52 and 2^53: the ranges of uint32 words and of float64 mantissas. */
export const TWO32 = 4294967296;
export const TWO52 = 4503599627370496;
export const TWO53 = 9007199254740992;

/** The most keys one `split` returns. */
const MAX_SPLIT = 1 << 24;

const isUint32 = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < TWO32;

/**
 * True when `value` is a key made by `key`, `split` or `foldIn` (or has the same shape).
 * @example isKey(key(0)) // true
 */
export const isKey = (value: unknown): value is Key => {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { _tag?: unknown; words?: unknown };
  return v._tag === "PRNGKey" && Array.isArray(v.words) && v.words.length === 2 && v.words.every(isUint32);
};

const makeKey = (w0: number, w1: number): Key =>
  Object.freeze({ _tag: "PRNGKey" as const, words: Object.freeze([w0 >>> 0, w1 >>> 0] as [number, number]) });

export const checkKey = (op: string, k: unknown): Key =>
  isKey(k)
    ? k
    : fail({
        _tag: "ValueError",
        op,
        arg: "key",
        detail: 'expected a PRNG key { _tag: "PRNGKey", words: [uint32, uint32] }',
        fix: "make keys with key(seed) and derive new ones with split(key) or foldIn(key, i)",
      });

/** A 64-bit two's-complement integer as its (high, low) uint32 words; throws on non-integers. */
const toWords = (op: string, arg: string, value: number | bigint): readonly [number, number] => {
  if (typeof value === "bigint") {
    const u = BigInt.asUintN(64, value);
    return [Number(u >> 32n), Number(u & 0xffffffffn)];
  }
  if (!Number.isSafeInteger(value)) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `${arg} must be an integer within ±(2^53 − 1), got ${showValue(value)}`,
      fix: `pass an integer such as 0 or 42 (use a bigint for a 64-bit ${arg})`,
    });
  }
  // ToUint32 (`>>> 0`) is exact modulo 2^32 for safe integers, and the floor division gives the
  // high word of the two's-complement form, so -1 becomes (0xffffffff, 0xffffffff).
  return [Math.floor(value / TWO32) >>> 0, value >>> 0];
};

/**
 * Makes a key from an integer seed, as JAX's `random.key`: the seed, read as a 64-bit two's
 * complement integer, gives the words `(high, low)`. So `key(42)` is `(0, 42)` and `key(-1)` is
 * `(0xffffffff, 0xffffffff)`. Numbers must be safe integers; pass a bigint for other 64-bit seeds.
 * @throws TensorException (`ValueError`) when the seed is not an integer.
 * @example key(42).words // [0, 42]
 */
export const key = (seed: number | bigint): Key => {
  const [hi, lo] = toWords("key", "seed", seed);
  return makeKey(hi, lo);
};

/**
 * Derives `n` independent child keys (default 2). Child `i` is Threefry of the counter `(0, i)`
 * under the parent, so `split(k, 3)[1]` equals `split(k, 2)[1]`; use the parent no further.
 * @example const [kInit, kDropout] = split(key(0));
 */
export const split = (k: Key, n = 2): readonly Key[] => {
  const parent = checkKey("split", k);
  // Each key is an object: a few million fill memory long before 2^32, so stop well before.
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SPLIT) {
    return fail({
      _tag: "ValueError",
      op: "split",
      arg: "n",
      detail: `n must be a non-negative integer up to ${MAX_SPLIT}, got ${showValue(n)}`,
      fix: "pass how many keys you want, e.g. 2 (for many streams, use foldIn(key, i) when each is needed)",
    });
  }
  const [k0, k1] = parent.words;
  const out = new Uint32Array(2);
  const keys: Key[] = [];
  for (let i = 0; i < n; i++) {
    threefry2x32Into(k0, k1, 0, i, out);
    keys.push(makeKey(out[0]!, out[1]!));
  }
  return Object.freeze(keys);
};

/**
 * Derives a key from `k` and an integer (a step number, a layer index, ...), as JAX's `fold_in`:
 * Threefry of the counter `(high, low)` of `data` as a 64-bit integer. Like JAX, for
 * `0 ≤ i < 2^32`, `foldIn(k, i)` equals `split(k, n)[i]`: fold in or split a key, not both.
 * @example const stepKey = foldIn(key(0), 7);
 */
export const foldIn = (k: Key, data: number | bigint): Key => {
  const [k0, k1] = checkKey("foldIn", k).words;
  const [hi, lo] = toWords("foldIn", "data", data);
  const out = new Uint32Array(2);
  threefry2x32Into(k0, k1, hi, lo, out);
  return makeKey(out[0]!, out[1]!);
};

/**
 * Runs `visit(i, w0, w1)` for every element `i < n` with the two Threefry words of counter `(0, i)`.
 * Typed arrays hold fewer than 2^32 elements, so the high counter word is always 0.
 */
export const forEachBlock = (k: Key, n: number, visit: (i: number, w0: number, w1: number) => void): void => {
  const [k0, k1] = k.words;
  const out = new Uint32Array(2);
  for (let i = 0; i < n; i++) {
    threefry2x32Into(k0, k1, 0, i, out);
    visit(i, out[0]!, out[1]!);
  }
};

/** A uniform double in [0, 1) with 53 random bits, from one block. */
export const unit53 = (w0: number, w1: number): number => ((w0 >>> 5) * 67108864 + (w1 >>> 6)) / TWO53;

/**
 * Uniform random 32-bit words, as JAX's `random.bits`: element `i` is `w0 ^ w1` of the block at
 * counter `i`. The tensor is `int32` holding the uint32 bit pattern (values ≥ 2^31 read as
 * negative; `x >>> 0` gives the unsigned value), since `int32` is the only integer dtype.
 * @example randomBits(key(0), [4]).dtype // "int32"
 */
export const randomBits = (k: Key, shape: Shape): Tensor => {
  const kk = checkKey("randomBits", k);
  const sh = validateShape("randomBits", "shape", shape);
  const out = new Int32Array(sizeOf(sh));
  forEachBlock(kk, out.length, (i, w0, w1) => {
    out[i] = w0 ^ w1;
  });
  return fromBuffer("int32", sh, out);
};
