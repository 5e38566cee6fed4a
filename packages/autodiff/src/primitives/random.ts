/**
 * @file Random sampling and key derivation as primitives, so a PRNG key can be traced data: an
 * int32 tensor `[...keys, 2]` holding the two uint32 words of each key (JAX's raw `key_data`
 * layout, the uint32 bit patterns stored as int32). Each impl calls @rewind/tensor's sampler once
 * per key, so a traced or jitted sample equals the eager `random.normal(key, shape)` bit for bit.
 *
 * The primitives take any number of leading key axes: `randomSample` of keys `[...lead, 2]` gives
 * `[...lead, ...shape]`, one sample per key. That makes the batching rule a move of the batch axis
 * to the front, one call for every example with each example's own key, never a loop. Keys and
 * samples carry no gradient: a key is integer data, and a sample does not vary smoothly with it.
 */
import * as T from "@rewind/tensor";
import type { Aval } from "../Graph.js";
import { definePrimitive, noGradient, type BatchContext, type BatchResult } from "../Primitive.js";
import type { Value } from "../core.js";
import type { Kit } from "../kit.js";
import { materialize, moveAxis } from "./batching.js";

/** Params of `randomSample`: which sampler of @rewind/tensor's `random`, its shape and options. */
export type SampleParams =
  | {
      /** `randomBits`: int32 bit patterns. */
      readonly dist: "bits";
      /** The shape of the sample each key gives. */
      readonly shape: readonly number[];
    }
  | {
      /** `normal`: standard normal samples. */
      readonly dist: "normal";
      /** The shape of the sample each key gives. */
      readonly shape: readonly number[];
      /** The samples' float dtype. */
      readonly dtype: "float32" | "float64";
    }
  | {
      /** `uniform`: samples in `[min, max)`. */
      readonly dist: "uniform";
      /** The shape of the sample each key gives. */
      readonly shape: readonly number[];
      /** The samples' float dtype. */
      readonly dtype: "float32" | "float64";
      /** The lower bound, included. */
      readonly min: number;
      /** The upper bound, excluded. */
      readonly max: number;
    }
  | {
      /** `bernoulli`: bool samples. */
      readonly dist: "bernoulli";
      /** The shape of the sample each key gives. */
      readonly shape: readonly number[];
      /** The probability of true. */
      readonly p: number;
    };

/** Params of `keySplit`: how many child keys each key gives. */
export interface SplitParams {
  /** The number of children per key. */
  readonly n: number;
}

/**
 * Checks that `a` holds keys: int32 with a last axis of 2 (the two words of each key).
 * @example keysAval("keySplit", { shape: [2], dtype: "int32" }) // [] (one key, no leading axes)
 */
export const keysAval = (op: string, a: Aval): readonly number[] => {
  if (a.dtype !== "int32" || a.shape.at(-1) !== 2) {
    T.fail({
      _tag: "InvalidArgument",
      op,
      arg: "key",
      detail: `a key is an int32 tensor of shape [2] (its two uint32 words), got ${a.dtype}[${a.shape.join(", ")}]`,
      fix: "pass a key made by random.key / split, or its data from keyData(key) (int32 [2])",
    });
  }
  return a.shape.slice(0, -1);
};

/** The aval of one sample of `params`. */
const sampleAval = (p: SampleParams): Aval => ({
  shape: p.shape,
  dtype: p.dist === "bits" ? "int32" : p.dist === "bernoulli" ? "bool" : p.dtype,
});

/** Key `i` of an int32 `[..., 2]` buffer as @rewind/tensor's key record. */
const keyAt = (words: ArrayLike<number>, i: number): T.Key =>
  Object.freeze({
    _tag: "PRNGKey" as const,
    words: Object.freeze([words[2 * i]! >>> 0, words[2 * i + 1]! >>> 0] as [number, number]),
  });

/** One sample of `p` from key `k`, by @rewind/tensor's eager sampler (so every path gives the same bits). */
const sampleOne = (k: T.Key, p: SampleParams): T.Tensor => {
  switch (p.dist) {
    case "bits":
      return T.random.randomBits(k, p.shape);
    case "normal":
      return T.random.normal(k, p.shape, p.dtype);
    case "uniform":
      return T.random.uniform(k, p.shape, { min: p.min, max: p.max, dtype: p.dtype });
    case "bernoulli":
      return T.random.bernoulli(k, p.p, p.shape);
  }
};

/**
 * Runs `one` for every key of `keys` (`[...lead, 2]`) and lays the results out as
 * `[...lead, ...aval.shape]`; one key (no leading axes) keeps the sampler's own tensor.
 */
const perKey = (keys: T.Tensor, aval: Aval, one: (k: T.Key, i: number) => T.Tensor): T.Tensor => {
  const lead = keys.shape.slice(0, -1);
  const count = T.sizeOf(lead);
  if (lead.length === 0) return one(keyAt(keys.data, 0), 0);
  const size = T.sizeOf(aval.shape);
  const out = T.allocate(aval.dtype, count * size);
  for (let i = 0; i < count; i++) out.set(one(keyAt(keys.data, i), i).data, i * size);
  return T.fromBuffer(aval.dtype, [...lead, ...aval.shape], out);
};

/** The rule of the one-input key primitives: the batch axis of the keys goes first, one call. */
const keysFirstBatch = <P>([keys]: readonly Value[], { dims, params, bind }: BatchContext<P>, k: Kit): BatchResult => [
  bind([moveAxis(k, keys!, dims[0]!, 0)], params),
  [0],
];

/** Samples of a distribution, one per key: keys `[...lead, 2]` give `[...lead, ...shape]`. */
export const randomSample = definePrimitive<"randomSample", SampleParams>({
  name: "randomSample",
  abstractEval: ([keys], p) => {
    const one = sampleAval(p);
    return [{ shape: [...keysAval("randomSample", keys!), ...one.shape], dtype: one.dtype }];
  },
  impl: ([keys], p) => [perKey(keys!, sampleAval(p), (k) => sampleOne(k, p))],
  // d sample / d key = 0: the key is integer data and the sample is not a smooth function of it
  vjp: noGradient,
  batch: keysFirstBatch,
});

/** Child keys: keys `[...lead, 2]` give `[...lead, n, 2]`, as @rewind/tensor's `split` of each key. */
export const keySplit = definePrimitive<"keySplit", SplitParams>({
  name: "keySplit",
  abstractEval: ([keys], { n }) => [{ shape: [...keysAval("keySplit", keys!), n, 2], dtype: "int32" }],
  impl: ([keys], { n }) => [
    perKey(keys!, { shape: [n, 2], dtype: "int32" }, (k) => {
      const children = T.random.split(k, n);
      return T.fromDataOrThrow(
        children.flatMap((c) => c.words.map((w) => w | 0)),
        [n, 2],
        "int32",
      );
    }),
  ],
  // d split(key) = 0: keys are integer data
  vjp: noGradient,
  batch: keysFirstBatch,
});

/** Keys folded with int32 data: keys `[...lead, 2]` and data `[...lead]` give `[...lead, 2]`. */
export const keyFoldIn = definePrimitive<"keyFoldIn", void>({
  name: "keyFoldIn",
  abstractEval: ([keys, data]) => {
    const lead = keysAval("keyFoldIn", keys!);
    if (data!.dtype !== "int32" || !T.shapesEqual(data!.shape, lead)) {
      T.fail({
        _tag: "ShapeError",
        op: "keyFoldIn",
        arg: "data",
        shapes: [keys!.shape, data!.shape],
        detail:
          `data must be int32 of shape [${lead.join(", ")}] (one integer per key), ` +
          `got ${data!.dtype}[${data!.shape.join(", ")}]`,
        fix: "call random.foldIn, which converts and broadcasts the data",
      });
    }
    return [keys!];
  },
  impl: ([keys, data]) => [
    perKey(keys!, { shape: [2], dtype: "int32" }, (k, i) => {
      const child = T.random.foldIn(k, data!.data[i]!);
      return T.fromDataOrThrow([child.words[0] | 0, child.words[1] | 0], [2], "int32");
    }),
  ],
  // d foldIn(key, data) = 0: keys and data are integers
  vjp: noGradient,
  // keys and data both get the batch axis first (a shared one is broadcast), one call
  batch: (ins, { dims, size, bind }, k) => [
    bind(
      ins.map((v, i) => materialize(k, v, dims[i]!, size, 0)),
      undefined,
    ),
    [0],
  ],
});

/** The random primitives, keyed by name. */
export const randomPrimitives = { randomSample, keySplit, keyFoldIn } as const;
