/**
 * @file Random numbers that work under every transform (JAX's `jax.random` over traced keys).
 *
 * @rewind/tensor's samplers take a host key record, so inside `jit`, `vmap` or `grad` a key there
 * is a constant and one key can never stand for a batch of keys. These samplers take a key either
 * as that record or as its data, an int32 tensor `[2]` (`keyData(key)`), which may be traced:
 * `vmap((k, x) => add(x, random.normal(k, x.shape)))(keysData(split(key, B)), xs)` draws
 * different noise for every example, each from its own key. Every sample equals the eager
 * `T.random` sample of the same key bit for bit, eager, jitted or vmapped. An unbatched key under
 * `vmap` gives every example the same sample, as in JAX.
 */
import * as T from "@rewind/tensor";
import { bind, isValue, type Value } from "./core.js";
import { graphFail } from "./errors.js";
import { expectValue } from "./ops/lift.js";
import { keyFoldIn, keySplit, randomSample, type SampleParams } from "./primitives/random.js";

/** A PRNG key: @rewind/tensor's key record, or its data (an int32 tensor or traced value of shape [2]). */
export type KeyLike = T.Key | Value;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The most keys one `split` returns (as @rewind/tensor's `split`). */
const MAX_SPLIT = 1 << 24;

/** A short description of what arrived in place of a key. */
const describe = (x: unknown): string =>
  isValue(x) ? `${x.dtype}[${x.shape.join(", ")}]` : x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;

/**
 * A key's data: an int32 tensor `[2]` holding its two uint32 words' bit patterns (JAX's
 * `random.key_data`). Pass it to a jitted or vmapped function and sample from it there.
 * @example keyData(T.random.key(42)).data // Int32Array [0, 42]
 */
export const keyData = (key: T.Key): T.Tensor => {
  if (!T.random.isKey(key)) {
    graphFail({
      _tag: "InvalidArgument",
      op: "keyData",
      arg: "key",
      detail: `expected a PRNG key record, got ${describe(key)}`,
      fix: "pass a key made by T.random.key / split / foldIn (key data is already a tensor: use it as it is)",
    });
  }
  return T.fromDataOrThrow([key.words[0] | 0, key.words[1] | 0], [2], "int32");
};

/**
 * Many keys' data as one int32 tensor `[n, 2]`: the batch of keys `vmap` hands out one per example.
 * @example keysData(T.random.split(T.random.key(0), 8)).shape // [8, 2]
 */
export const keysData = (keys: readonly T.Key[]): T.Tensor => {
  const list: readonly unknown[] | undefined = Array.isArray(keys) ? keys : undefined;
  const bad = list === undefined ? -1 : list.findIndex((k) => !T.random.isKey(k));
  if (list === undefined || bad >= 0) {
    graphFail({
      _tag: "InvalidArgument",
      op: "keysData",
      arg: bad >= 0 ? `keys[${bad}]` : "keys",
      detail: bad >= 0 ? "expected a PRNG key record" : "expected an array of PRNG keys",
      fix: "pass keys made by T.random.key / split / foldIn",
    });
  }
  return T.fromDataOrThrow(
    keys.flatMap((k) => [k.words[0] | 0, k.words[1] | 0]),
    [keys.length, 2],
    "int32",
  );
};

/**
 * The key record a concrete key's data holds (JAX's `random.wrap_key_data`): the inverse of `keyData`.
 * @example wrapKeyData(keyData(T.random.key(7))).words // [0, 7]
 */
export const wrapKeyData = (data: T.Tensor): T.Key => {
  if (!T.isTensor(data) || data.dtype !== "int32" || data.shape.length !== 1 || data.shape[0] !== 2) {
    graphFail({
      _tag: "InvalidArgument",
      op: "wrapKeyData",
      arg: "data",
      detail: `expected a concrete int32 tensor of shape [2], got ${describe(data)}`,
      fix: "pass keyData(key), or one row of keysData(keys); a traced key cannot become a record",
    });
  }
  return Object.freeze({
    _tag: "PRNGKey" as const,
    words: Object.freeze([data.data[0]! >>> 0, data.data[1]! >>> 0] as [number, number]),
  });
};

/** `key` as a value of shape [2], int32, with an error naming `op` otherwise. */
const asKey = (op: string, key: KeyLike): Value => {
  if (T.random.isKey(key)) return keyData(key);
  if (!isValue(key) || key.dtype !== "int32" || key.shape.length !== 1 || key.shape[0] !== 2) {
    return graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "key",
      detail: `expected one key (a key record, or int32 data of shape [2]), got ${describe(key)}`,
      fix:
        "pass T.random.key(seed) or keyData(key); for a batch of keys [n, 2], vmap over them" +
        (isValue(key) && key.dtype !== "int32" ? " (key data is int32: do not convert it to float)" : ""),
    });
  }
  return key;
};

/** A dummy key for the eager samplers' argument checks. */
const CHECK_KEY = T.random.key(0);

/**
 * Draws `params` from `key`. The eager sampler first runs on a one-element draw, so this op
 * refuses exactly the shapes, dtypes and options the eager one does, with its messages, at trace
 * time rather than when a compiled graph runs.
 */
const sample = (op: string, key: KeyLike, params: SampleParams): Value => {
  const k = asKey(op, key);
  const shape = T.validateShape(op, "shape", params.shape);
  const p = { ...params, shape };
  switch (p.dist) {
    case "bits":
      break;
    case "normal":
      T.random.normal(CHECK_KEY, [], p.dtype);
      break;
    case "uniform":
      T.random.uniform(CHECK_KEY, [], { min: p.min, max: p.max, dtype: p.dtype });
      break;
    case "bernoulli":
      T.random.bernoulli(CHECK_KEY, p.p, []);
      break;
  }
  return bind(randomSample, [k], p)[0]!;
};

/**
 * Uniform random 32-bit words as int32 bit patterns, as `T.random.randomBits` (JAX's `random.bits`).
 * @example bits(T.random.key(0), [4]).dtype // "int32"
 */
export const bits = (key: KeyLike, shape: readonly number[]): Value =>
  sample("random.bits", key, { dist: "bits", shape });

/**
 * Standard normal samples, as `T.random.normal` (default float32), from a key record or key data.
 * @example normal(T.random.key(0), [3], "float64").shape // [3]
 */
export const normal = (key: KeyLike, shape: readonly number[], dtype: T.DType = "float32"): Value =>
  sample("random.normal", key, { dist: "normal", shape, dtype: dtype as "float32" });

/**
 * Uniform samples in `[min, max)` (default `[0, 1)`, float32), as `T.random.uniform`.
 * @example uniform(T.random.key(0), [2], { min: -1, max: 1 }).shape // [2]
 */
export const uniform = (key: KeyLike, shape: readonly number[], options: T.random.UniformOptions = {}): Value => {
  T.random.uniform(CHECK_KEY, [], options); // refuses a misspelt option, as the eager sampler does
  const { min = 0, max = 1, dtype = "float32" } = options;
  return sample("random.uniform", key, { dist: "uniform", shape, dtype: dtype as "float32", min, max });
};

/**
 * `bool` samples, true with probability `p`, as `T.random.bernoulli` (a dropout mask keeps `1 - rate`).
 * @example where(bernoulli(k, 0.9, x.shape), div(x, 0.9), 0) // dropout at rate 0.1
 */
export const bernoulli = (key: KeyLike, p: number, shape: readonly number[]): Value =>
  sample("random.bernoulli", key, { dist: "bernoulli", shape, p });

/**
 * `n` child keys' data, `[n, 2]` (default 2), as `T.random.split`; row `i` is `keyData(split(key, n)[i])`.
 * @example const ks = split(keyValue, 3); // [3, 2]; take(ks, [i], 0) is child i, inside jit or vmap too
 */
export const split = (key: KeyLike, n = 2): Value => {
  const k = asKey("random.split", key);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SPLIT) {
    graphFail({
      _tag: "InvalidArgument",
      op: "random.split",
      arg: "n",
      detail: `n must be a non-negative integer up to ${MAX_SPLIT}, got ${String(n)}`,
      fix: "pass how many keys you want, e.g. 2",
    });
  }
  return bind(keySplit, [k], { n })[0]!;
};

/**
 * A key derived from `key` and an int32 `data` (a step or layer number), as `T.random.foldIn`;
 * `data` may be traced (an int32 scalar), e.g. the step counter of a scan.
 * @example foldIn(T.random.key(0), 7) // equals keyData(T.random.foldIn(T.random.key(0), 7))
 */
export const foldIn = (key: KeyLike, data: number | Value): Value => {
  const k = asKey("random.foldIn", key);
  const okNumber = typeof data === "number" && Number.isInteger(data) && data >= INT32_MIN && data <= INT32_MAX;
  if (typeof data === "number" ? !okNumber : !isValue(data) || data.dtype !== "int32" || data.shape.length !== 0) {
    graphFail({
      _tag: "InvalidArgument",
      op: "random.foldIn",
      arg: "data",
      detail: `expected an int32 integer (a number or an int32 scalar), got ${
        typeof data === "number" ? String(data) : describe(data)
      }`,
      fix: "pass an integer in [-2^31, 2^31 - 1] (use T.random.foldIn on a key record for 64-bit data)",
    });
  }
  const d = typeof data === "number" ? T.scalar(data, "int32") : expectValue("random.foldIn", "data", data);
  return bind(keyFoldIn, [k, d], undefined)[0]!;
};
