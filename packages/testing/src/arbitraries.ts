/**
 * @file fast-check arbitraries for tensors, shapes, pytrees, keys and ragged batches.
 *
 * Every tensor arbitrary draws its shape first and its data second (`chain`), so a failing
 * property shrinks to the smallest shape before it shrinks the numbers. Scan problems live in
 * `scanProblems.ts`.
 */
import fc from "fast-check";
import { keysOf } from "@rewind/tensor/internal/check";
import * as T from "@rewind/tensor";
import { checkArbitrary, checkFinite, checkInt, checkOptions, checkRange, invalid } from "./args.js";

/**
 * The most elements a drawn tensor may have: arbitraries are for small tensors (and a huge shape
 * would exhaust memory).
 */
const MAX_ELEMENTS = 1 << 20;
const DTYPES: readonly string[] = ["float32", "float64", "int32", "bool"];

/**
 * Bounds of a random shape.
 * @example arbShape({ minRank: 1, maxRank: 2, maxDim: 3 } satisfies ShapeOptions)
 */
export interface ShapeOptions {
  /** Smallest rank drawn (default 0: scalars included). */
  readonly minRank?: number;
  /** Largest rank drawn (default 3). */
  readonly maxRank?: number;
  /** Smallest size of an axis (default 1; 0 draws empty tensors too). */
  readonly minDim?: number;
  /** Largest size of an axis (default 4). */
  readonly maxDim?: number;
}

/**
 * Shapes with rank in [minRank, maxRank] (default 0–3) and each axis in [minDim, maxDim]
 * (default 1–4).
 * @example fc.sample(arbShape({ minRank: 2, maxRank: 2 }), 1)[0] // e.g. [3, 1]
 */
export const arbShape = (opts: ShapeOptions = {}): fc.Arbitrary<T.Shape> => {
  checkOptions(
    "arbShape",
    "opts",
    opts,
    keysOf<ShapeOptions>({ minRank: true, maxRank: true, minDim: true, maxDim: true }),
  );
  for (const k of ["minRank", "maxRank", "minDim", "maxDim"] as const)
    checkInt("arbShape", `opts.${k}`, opts[k], 0, k.endsWith("Rank") ? 32 : MAX_ELEMENTS);
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = opts;
  checkRange("arbShape", "opts.minRank", "opts.maxRank", minRank, maxRank);
  checkRange("arbShape", "opts.minDim", "opts.maxDim", minDim, maxDim);
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
};

/**
 * `n` shapes that broadcast together (NumPy rules): a common result shape is drawn first, then
 * each operand keeps a suffix of it (rank differences) with some axes set to 1.
 * @example fc.sample(arbBroadcastShapes(2), 1)[0] // e.g. [[2, 1, 3], [4, 3]]
 */
export const arbBroadcastShapes = (n: number, opts: ShapeOptions = {}): fc.Arbitrary<T.Shape[]> => {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || n > 64)
    invalid("arbBroadcastShapes", "n", `must be an integer in [0, 64], got ${String(n)}`);
  return arbShape(opts).chain((full) => {
    const operand = fc
      .tuple(
        fc.integer({ min: Math.min(opts.minRank ?? 0, full.length), max: full.length }),
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      )
      .map(([rank, ones]) => full.slice(full.length - rank).map((d, i) => (ones[full.length - rank + i]! ? 1 : d)));
    return fc.array(operand, { minLength: n, maxLength: n });
  });
};

/**
 * What `arbTensor` draws.
 * @example arbTensor({ shape: arbShape({ maxRank: 2 }), min: -1, max: 1, uniform: true } satisfies TensorOptions)
 */
export interface TensorOptions {
  /** A fixed shape, or an arbitrary of shapes (default `arbShape()`). */
  readonly shape?: T.Shape | fc.Arbitrary<T.Shape>;
  /** The element type (default `float64`). */
  readonly dtype?: T.DType;
  /** Lower bound of the elements (default -2); for int32 it is rounded inwards. */
  readonly min?: number;
  /** Upper bound of the elements (default 2); for int32 it is rounded inwards. */
  readonly max?: number;
  /**
   * Draw float elements evenly on a fine grid (2^20 steps per side of 0) instead of with
   * `fc.double`, which favours tiny, subnormal and extreme values: good for edge cases, but a
   * network fed 1e-300s is nearly linear and its outputs sit below any tolerance.
   */
  readonly uniform?: boolean;
}

const GRID = 1 << 20;

/**
 * Evenly spread floats in [min, max], shrinking towards 0 (or towards min when 0 is outside).
 * `noBias` because fast-check's integer bias would make a quarter of the values tiny.
 */
const uniformElement = (dtype: T.DType, min: number, max: number): fc.Arbitrary<number> => {
  const round = dtype === "float32" ? Math.fround : (x: number) => x;
  const clamp = (x: number) => Math.min(Math.max(x, min), max);
  return min <= 0 && max >= 0
    ? fc
        .noBias(fc.integer({ min: -GRID, max: GRID }))
        .map((i) => clamp(round(i < 0 ? (-i / GRID) * min : (i / GRID) * max)))
    : fc.noBias(fc.integer({ min: 0, max: GRID })).map((i) => clamp(round(min + (max - min) * (i / GRID))));
};

/** An arbitrary of one element of `dtype` in [min, max]. */
const arbElement = (dtype: T.DType, min: number, max: number, uniform: boolean): fc.Arbitrary<number> => {
  if (uniform && T.isFloating(dtype)) return uniformElement(dtype, min, max);
  switch (dtype) {
    case "float64":
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    case "float32":
      // fc.float's bounds must be 32-bit floats: round them inwards.
      return fc.float({ min: roundIn32(min, 1), max: roundIn32(max, -1), noNaN: true, noDefaultInfinity: true });
    case "int32":
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    case "bool":
      return fc.boolean().map(Number);
  }
};

/** The nearest float32 to `x` on the side of `dir` (+1: ≥ x, −1: ≤ x). */
const roundIn32 = (x: number, dir: 1 | -1): number => {
  const f = Math.fround(x);
  if (dir > 0 ? f >= x : f <= x) return f;
  if (f === 0) return dir * 1.401298464324817e-45; // the smallest float32 subnormal
  const buf = new Float32Array([f]);
  const bits = new Int32Array(buf.buffer);
  // Stepping the bit pattern moves one ulp away from zero for positive f when incremented.
  bits[0] = bits[0]! + (f > 0 === dir > 0 ? 1 : -1);
  return buf[0]!;
};

/**
 * Tensors of a random (or fixed) shape and dtype (default float64) with elements in [min, max]
 * (default [-2, 2]); never NaN or infinite. See `uniform` for evenly spread values.
 * @example fc.sample(arbTensor({ shape: [2, 3], min: -1, max: 1 }), 1)[0]!.shape // [2, 3]
 */
export const arbTensor = (opts: TensorOptions = {}): fc.Arbitrary<T.Tensor> => {
  checkOptions(
    "arbTensor",
    "opts",
    opts,
    keysOf<TensorOptions>({ shape: true, dtype: true, min: true, max: true, uniform: true }),
  );
  const { dtype = "float64", min = -2, max = 2, uniform = false } = opts;
  if (!DTYPES.includes(dtype))
    invalid(
      "arbTensor",
      "opts.dtype",
      `must be one of ${DTYPES.join(", ")}, got ${JSON.stringify(dtype) ?? String(dtype)}`,
    );
  checkFinite("arbTensor", "opts.min", min);
  checkFinite("arbTensor", "opts.max", max);
  checkRange("arbTensor", "opts.min", "opts.max", min, max);
  if (dtype === "int32" && Math.ceil(min) > Math.floor(max))
    invalid("arbTensor", "opts.min", `[${min}, ${max}] holds no integer for int32 elements`);
  if (opts.shape !== undefined && !Array.isArray(opts.shape)) checkArbitrary("arbTensor", "opts.shape", opts.shape);
  const shapes =
    opts.shape === undefined
      ? arbShape()
      : Array.isArray(opts.shape)
        ? fc.constant(opts.shape as T.Shape)
        : (opts.shape as fc.Arbitrary<T.Shape>);
  return shapes.chain((shape) => {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      invalid(
        "arbTensor",
        "opts.shape",
        `must give arrays of non-negative integers, got ${JSON.stringify(shape) ?? String(shape)}`,
      );
    const size = T.sizeOf(shape);
    if (size > MAX_ELEMENTS)
      invalid(
        "arbTensor",
        "opts.shape",
        `[${shape.join(", ")}] has ${size} elements; arbitraries draw small tensors (at most ${MAX_ELEMENTS})`,
      );
    return fc
      .array(arbElement(dtype, min, max, uniform), { minLength: size, maxLength: size })
      .map((data) => T.fromDataOrThrow(data, shape, dtype));
  });
};

/**
 * A pytree of tensors: a tensor, or arrays and plain objects of trees.
 * @example const params: TensorTree = { w: zeros([2, 2]), b: [zeros([2])] }
 */
export type TensorTree = T.Tensor | readonly TensorTree[] | { readonly [key: string]: TensorTree };

/**
 * Nested arrays and plain objects (up to `maxDepth` levels, default 2) whose leaves come from
 * `leaf`, for testing code that must work over any pytree.
 * @example fc.sample(arbPyTree(arbTensor({ shape: [2] })), 1)[0] // e.g. { a: [t1, t2], h: t3 }
 */
export const arbPyTree = (
  leaf: fc.Arbitrary<T.Tensor>,
  opts: { readonly maxDepth?: number } = {},
): fc.Arbitrary<TensorTree> => {
  checkArbitrary("arbPyTree", "leaf", leaf);
  checkOptions("arbPyTree", "opts", opts, ["maxDepth"]);
  checkInt("arbPyTree", "opts.maxDepth", opts.maxDepth, 0, 16);
  const tree = (depth: number): fc.Arbitrary<TensorTree> =>
    depth === 0
      ? leaf
      : fc.oneof(
          leaf,
          fc.array(tree(depth - 1), { minLength: 1, maxLength: 3 }),
          fc.dictionary(fc.constantFrom("a", "b", "c", "h", "w"), tree(depth - 1), {
            minKeys: 1,
            maxKeys: 3,
            noNullPrototype: true,
          }),
        );
  return tree(opts.maxDepth ?? 2);
};

/**
 * PRNG keys from random seeds (shrinking towards seed 0).
 * @example fc.sample(arbKey(), 1)[0]!._tag // "PRNGKey"
 */
export const arbKey = (): fc.Arbitrary<T.Key> => fc.nat().map((seed) => T.random.key(seed));

/**
 * Bounds of `arbRaggedBatch`.
 * @example arbRaggedBatch({ maxBatch: 2, maxTime: 4, features: { min: 1, max: 2 } } satisfies RaggedBatchOptions)
 */
export interface RaggedBatchOptions {
  /** Largest batch drawn, B in 1..maxBatch (default 4). */
  readonly maxBatch?: number;
  /** Shortest padded time axis T (default 1). */
  readonly minTime?: number;
  /** Longest padded time axis T (default 6). */
  readonly maxTime?: number;
  /** A fixed feature size, or bounds (default 1–3). */
  readonly features?:
    | number
    | {
        /** Fewest features drawn, ≥ 1. */
        readonly min: number;
        /** Most features drawn. */
        readonly max: number;
      };
  /** Lower bound of the data (default -2). */
  readonly min?: number;
  /** Upper bound of the data (default 2). */
  readonly max?: number;
}

/**
 * A padded batch of variable-length sequences.
 * @example const { data, lengths }: RaggedBatch = fc.sample(arbRaggedBatch(), 1)[0]!
 */
export interface RaggedBatch {
  /** `[B, T, F]` float64; entries past a sample's length are padding (arbitrary values). */
  readonly data: T.Tensor;
  /** `[B]` int32, each in [0, T]. */
  readonly lengths: T.Tensor;
}

/**
 * A padded `[B, T, F]` float64 batch (B in 1..maxBatch, T in minTime..maxTime, default 1..6)
 * with per-sample lengths in [0, T]. Data are evenly spread (`uniform`), and padding holds random
 * numbers too, so a law that claims padding is ignored is really tested.
 * @example fc.sample(arbRaggedBatch({ maxBatch: 3, maxTime: 5, features: 2 }), 1)[0]!.lengths.dtype // "int32"
 */
export const arbRaggedBatch = (opts: RaggedBatchOptions = {}): fc.Arbitrary<RaggedBatch> => {
  checkOptions(
    "arbRaggedBatch",
    "opts",
    opts,
    keysOf<RaggedBatchOptions>({ maxBatch: true, minTime: true, maxTime: true, features: true, min: true, max: true }),
  );
  checkInt("arbRaggedBatch", "opts.maxBatch", opts.maxBatch, 1, 1024);
  checkInt("arbRaggedBatch", "opts.minTime", opts.minTime, 0, 4096);
  checkInt("arbRaggedBatch", "opts.maxTime", opts.maxTime, 0, 4096);
  const { maxBatch = 4, minTime = 1, maxTime = 6, features = { min: 1, max: 3 }, min = -2, max = 2 } = opts;
  checkRange("arbRaggedBatch", "opts.minTime", "opts.maxTime", minTime, maxTime);
  if (typeof features === "number") checkInt("arbRaggedBatch", "opts.features", features, 1, 4096);
  else {
    checkOptions("arbRaggedBatch", "opts.features", features, ["min", "max"], false);
    checkInt("arbRaggedBatch", "opts.features.min", features.min, 1, 4096);
    checkInt("arbRaggedBatch", "opts.features.max", features.max, 1, 4096);
    checkRange("arbRaggedBatch", "opts.features.min", "opts.features.max", features.min, features.max);
  }
  const arbF = typeof features === "number" ? fc.constant(features) : fc.integer(features);
  return fc
    .tuple(fc.integer({ min: 1, max: maxBatch }), fc.integer({ min: minTime, max: maxTime }), arbF)
    .chain(([b, t, f]) =>
      fc.record({
        data: arbTensor({ shape: [b, t, f], min, max, uniform: true }),
        lengths: fc
          .array(fc.integer({ min: 0, max: t }), { minLength: b, maxLength: b })
          .map((ls) => T.fromDataOrThrow(ls, [b], "int32")),
      }),
    );
};
