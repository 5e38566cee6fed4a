/**
 * @file fast-check arbitraries for tensors, shapes, pytrees, keys and ragged batches.
 *
 * Every tensor arbitrary draws its shape first and its data second (`chain`), so a failing
 * property shrinks to the smallest shape before it shrinks the numbers. Scan problems live in
 * `scanProblems.ts`.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

/**
 * Bounds of a random shape.
 * @example arbShape({ minRank: 1, maxRank: 2, maxDim: 3 } satisfies ShapeOptions)
 */
export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly minDim?: number;
  readonly maxDim?: number;
}

/**
 * Shapes with rank in [minRank, maxRank] (default 0–3) and each axis in [minDim, maxDim]
 * (default 1–4).
 * @example fc.sample(arbShape({ minRank: 2, maxRank: 2 }), 1)[0] // e.g. [3, 1]
 */
export const arbShape = (opts: ShapeOptions = {}): fc.Arbitrary<T.Shape> => {
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = opts;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
};

/**
 * `n` shapes that broadcast together (NumPy rules): a common result shape is drawn first, then
 * each operand keeps a suffix of it (rank differences) with some axes set to 1.
 * @example fc.sample(arbBroadcastShapes(2), 1)[0] // e.g. [[2, 1, 3], [4, 3]]
 */
export const arbBroadcastShapes = (n: number, opts: ShapeOptions = {}): fc.Arbitrary<T.Shape[]> =>
  arbShape(opts).chain((full) => {
    const operand = fc
      .tuple(
        fc.integer({ min: Math.min(opts.minRank ?? 0, full.length), max: full.length }),
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      )
      .map(([rank, ones]) => full.slice(full.length - rank).map((d, i) => (ones[full.length - rank + i]! ? 1 : d)));
    return fc.array(operand, { minLength: n, maxLength: n });
  });

/**
 * What `arbTensor` draws.
 * @example arbTensor({ shape: arbShape({ maxRank: 2 }), min: -1, max: 1, uniform: true } satisfies TensorOptions)
 */
export interface TensorOptions {
  /** A fixed shape, or an arbitrary of shapes (default `arbShape()`). */
  readonly shape?: T.Shape | fc.Arbitrary<T.Shape>;
  readonly dtype?: T.DType;
  /** Bounds of the elements (default [-2, 2]); for int32 they are rounded inwards. */
  readonly min?: number;
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
    ? fc.noBias(fc.integer({ min: -GRID, max: GRID })).map((i) => clamp(round(i < 0 ? (-i / GRID) * min : (i / GRID) * max)))
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
  bits[0] = bits[0]! + ((f > 0) === (dir > 0) ? 1 : -1);
  return buf[0]!;
};

/**
 * Tensors of a random (or fixed) shape and dtype (default float64) with elements in [min, max]
 * (default [-2, 2]); never NaN or infinite. See `uniform` for evenly spread values.
 * @example fc.sample(arbTensor({ shape: [2, 3], min: -1, max: 1 }), 1)[0]!.shape // [2, 3]
 */
export const arbTensor = (opts: TensorOptions = {}): fc.Arbitrary<T.Tensor> => {
  const { dtype = "float64", min = -2, max = 2, uniform = false } = opts;
  const shapes = opts.shape === undefined ? arbShape() : Array.isArray(opts.shape) ? fc.constant(opts.shape as T.Shape) : (opts.shape as fc.Arbitrary<T.Shape>);
  return shapes.chain((shape) => {
    const size = T.sizeOf(shape);
    return fc.array(arbElement(dtype, min, max, uniform), { minLength: size, maxLength: size }).map((data) => T.fromDataOrThrow(data, shape, dtype));
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
export const arbPyTree = (leaf: fc.Arbitrary<T.Tensor>, opts: { readonly maxDepth?: number } = {}): fc.Arbitrary<TensorTree> => {
  const tree = (depth: number): fc.Arbitrary<TensorTree> =>
    depth === 0
      ? leaf
      : fc.oneof(
          leaf,
          fc.array(tree(depth - 1), { minLength: 1, maxLength: 3 }),
          fc.dictionary(fc.constantFrom("a", "b", "c", "h", "w"), tree(depth - 1), { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
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
  readonly maxBatch?: number;
  readonly minTime?: number;
  readonly maxTime?: number;
  /** A fixed feature size, or bounds (default 1–3). */
  readonly features?: number | { readonly min: number; readonly max: number };
  readonly min?: number;
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
  const { maxBatch = 4, minTime = 1, maxTime = 6, features = { min: 1, max: 3 }, min = -2, max = 2 } = opts;
  const arbF = typeof features === "number" ? fc.constant(features) : fc.integer(features);
  return fc
    .tuple(fc.integer({ min: 1, max: maxBatch }), fc.integer({ min: minTime, max: maxTime }), arbF)
    .chain(([b, t, f]) =>
      fc.record({
        data: arbTensor({ shape: [b, t, f], min, max, uniform: true }),
        lengths: fc.array(fc.integer({ min: 0, max: t }), { minLength: b, maxLength: b }).map((ls) => T.fromDataOrThrow(ls, [b], "int32")),
      }),
    );
};

/**
 * The body families `arbScanProblem` draws from.
 * @example arbScanProblem({ families: ["lstm"] satisfies ScanFamily[] })
 */
export type ScanFamily = "rnn" | "lstm" | "pytreeYs" | "lengthOnly";

/**
 * Every scan body family, in the order `arbScanProblem` shrinks towards.
 * @example scanFamilies.map((f) => arbScanProblem({ families: [f] }))
 */
export const scanFamilies: readonly ScanFamily[] = ["rnn", "lstm", "pytreeYs", "lengthOnly"];

/**
 * Anything with the signature of `scan`: the implementation a law checks.
 * @example const remat: ScanImpl = (f, init, xs, opts) => scan(f, init, xs, { ...opts, checkpoint: "carries" })
 */
export type ScanImpl = <C, X, Y>(f: A.ScanFn<C, X, Y>, init: C, xs: X | null | undefined, opts?: A.ScanOptions) => [C, Y];

/**
 * A step function over untyped pytrees.
 * @example const f: AnyScanFn = (c, x) => [c, x]
 */
export type AnyScanFn = A.ScanFn<unknown, unknown, unknown>;

/**
 * A small scan problem: a body with its weights, an initial carry, inputs and a loss.
 * @example const g = grad(p.loss, { argnums: [0, 1, 2] })(p.params, p.init, p.xs)
 */
export interface ScanProblem {
  readonly family: ScanFamily;
  /** The body's weights (a pytree of float64 tensors); the body closes over them as constants. */
  readonly params: TensorTree;
  readonly init: unknown;
  /** Stacked inputs (axis 0 is time), or null for a length-only scan. */
  readonly xs: unknown;
  readonly length: number;
  readonly reverse: boolean;
  /** The body with explicit weights: `step(params)(carry, x_t) → [carry', y_t]`. */
  readonly step: (params: unknown) => AnyScanFn;
  /** `step(this.params)`. */
  readonly f: AnyScanFn;
  /** `[finalCarry, ys]` of the problem's scan, through `impl` (default `scan`) with extra options. */
  readonly run: (params: unknown, init: unknown, xs: unknown, impl?: ScanImpl, opts?: A.ScanOptions) => [unknown, unknown];
  /** A scalar float64 loss of `run(...)` whose cotangents differ per element. */
  readonly loss: (params: unknown, init: unknown, xs: unknown) => A.Value;
  /** `loss` with another scan implementation and extra options. */
  readonly lossWith: (impl: ScanImpl, opts?: A.ScanOptions) => (params: unknown, init: unknown, xs: unknown) => A.Value;
}

/**
 * A scalar of a pytree's float leaves, Σᵢ sum(sin((1 + i/4)·leafᵢ)): its cotangent varies per
 * element and per leaf, so a gradient bug cannot hide behind a uniform seed.
 * @example readout([tensor([0.5], "float64")]) // sin(0.5)
 */
export const readout = (tree: unknown): A.Value =>
  A.treeLeaves(tree)
    .filter((l) => T.isFloating(l.dtype))
    .reduce<A.Value>((acc, l, i) => A.add(acc, A.sum(A.sin(A.mul(l, 1 + i / 4)))), T.scalar(0, "float64"));

interface Dims {
  readonly batch: number;
  readonly hidden: number;
  readonly input: number;
}

interface FamilySpec {
  readonly params: (d: Dims) => Record<string, T.Shape>;
  readonly init: (d: Dims) => fc.Arbitrary<unknown>;
  readonly xs: (d: Dims, length: number) => fc.Arbitrary<unknown>;
  readonly step: (params: unknown) => AnyScanFn;
}

// Evenly spread values keep the bodies in their nonlinear range, where gradient bugs show.
const weight = (shape: T.Shape) => arbTensor({ shape, min: -0.8, max: 0.8, uniform: true });
const data = (shape: T.Shape) => arbTensor({ shape, min: -1.5, max: 1.5, uniform: true });
const v = (x: unknown): A.Value => x as A.Value;
/** The weights of a family, by name. */
type W<K extends string> = Readonly<Record<K, A.Value>>;

const families: Readonly<Record<ScanFamily, FamilySpec>> = {
  // Elman cell: h' = tanh(x Wx + h Wh + b), y = h'.
  rnn: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, h], wh: [h, h], b: [h] }),
    init: ({ batch, hidden }) => data([batch, hidden]),
    xs: ({ batch, input }, n) => data([n, batch, input]),
    step: (params) => {
      const { wx, wh, b } = params as W<"wx" | "wh" | "b">;
      return (h, x) => {
        const next = A.tanh(A.add(A.add(A.matmul(v(x), wx), A.matmul(v(h), wh)), b));
        return [next, next];
      };
    },
  },
  // LSTM-like: a pytree carry { h, c } and four gates split from one matmul.
  lstm: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, 4 * h], wh: [h, 4 * h], b: [4 * h] }),
    init: ({ batch, hidden }) => fc.record({ h: data([batch, hidden]), c: data([batch, hidden]) }),
    xs: ({ batch, input }, n) => data([n, batch, input]),
    step: (params) => {
      const { wx, wh, b } = params as W<"wx" | "wh" | "b">;
      return (carry, x) => {
        const { h, c } = carry as W<"h" | "c">;
        const z = A.add(A.add(A.matmul(v(x), wx), A.matmul(h, wh)), b);
        const [i, f, g, o] = A.split(z, 4, -1) as [A.Value, A.Value, A.Value, A.Value];
        const c2 = A.add(A.mul(A.sigmoid(f), c), A.mul(A.sigmoid(i), A.tanh(g)));
        const h2 = A.mul(A.sigmoid(o), A.tanh(c2));
        return [{ h: h2, c: c2 }, h2];
      };
    },
  },
  // Pytree xs [xa, xb] and pytree ys { out, pair: [...] }, one of them not touching the weights.
  pytreeYs: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, h], wh: [h, h], wo: [h, 2] }),
    init: ({ batch, hidden }) => data([batch, hidden]),
    xs: ({ batch, hidden, input }, n) => fc.tuple(data([n, batch, input]), data([n, hidden])),
    step: (params) => {
      const { wx, wh, wo } = params as W<"wx" | "wh" | "wo">;
      return (h, x) => {
        const [xa, xb] = x as [A.Value, A.Value];
        const next = A.tanh(A.add(A.add(A.matmul(xa, wx), A.matmul(v(h), wh)), xb));
        return [next, { out: A.matmul(next, wo), pair: [A.sin(xa), A.mul(next, v(h))] }];
      };
    },
  },
  // No xs (length only), and an int32 step counter in the carry next to the float state.
  lengthOnly: {
    params: ({ hidden: h }) => ({ w: [h, h], b: [h] }),
    init: ({ batch, hidden }) =>
      fc.record({ h: data([batch, hidden]), step: fc.integer({ min: 0, max: 3 }).map((n) => T.scalar(n, "int32")) }),
    xs: () => fc.constant(null),
    step: (params) => {
      const { w, b } = params as W<"w" | "b">;
      return (carry) => {
        const { h, step } = carry as W<"h" | "step">;
        const drive = A.mul(A.astype(step, "float64"), 0.1);
        const next = A.tanh(A.add(A.add(A.matmul(h, w), b), drive));
        return [{ h: next, step: A.add(step, 1) }, A.sum(next, { axis: -1 })];
      };
    },
  },
};

/**
 * Bounds of `arbScanProblem`.
 * @example arbScanProblem({ maxLength: 4, reverse: true, maxHidden: 2 } satisfies ScanProblemOptions)
 */
export interface ScanProblemOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly families?: readonly ScanFamily[];
  /** Fix the direction (random when omitted). */
  readonly reverse?: boolean;
  readonly maxBatch?: number;
  readonly maxHidden?: number;
  readonly maxInput?: number;
}

/**
 * Builds a scan problem of `family` from its weights and data (what `arbScanProblem` draws).
 * @example scanProblem("rnn", { params, init, xs, length: 3, reverse: false }).loss(params, init, xs)
 */
export const scanProblem = (
  family: ScanFamily,
  parts: { readonly params: TensorTree; readonly init: unknown; readonly xs: unknown; readonly length: number; readonly reverse: boolean },
): ScanProblem => {
  const { length, reverse } = parts;
  const step = (params: unknown): AnyScanFn => families[family].step(params);
  const run = (params: unknown, init: unknown, xs: unknown, impl: ScanImpl = A.scan, opts: A.ScanOptions = {}): [unknown, unknown] =>
    impl(step(params), init, xs, { length, reverse, ...opts });
  const lossWith = (impl: ScanImpl, opts: A.ScanOptions = {}) => (params: unknown, init: unknown, xs: unknown): A.Value =>
    readout(run(params, init, xs, impl, opts));
  const avals = (name: string, tree: unknown) =>
    A.treeLeavesWithPaths(tree).map(([path, l]) => `${name}${path === "<root>" ? "" : path}: ${l.dtype}[${l.shape.join(",")}]`);
  const shapes = [...avals("init", parts.init), ...(parts.xs === null ? ["xs: null"] : avals("xs", parts.xs))];
  return {
    family,
    ...parts,
    step,
    f: step(parts.params),
    run,
    loss: lossWith(A.scan),
    lossWith,
    // fast-check prints counterexamples with this instead of dumping closures and buffers.
    [fc.toStringMethod]: () => `ScanProblem(${family}, length ${length}, ${reverse ? "reverse" : "forward"}; ${shapes.join(", ")})`,
  } as ScanProblem;
};

/**
 * Random small scan problems: a body family (Elman tanh RNN, LSTM-like `{ h, c }` carry, pytree
 * xs/ys, length-only with an int32 counter), a length in [minLength, maxLength] (default 0–8), a
 * direction, sizes, then float64 weights and data. Weights are `params`, closed over by the body,
 * so laws can differentiate with respect to constants as well as `init` and `xs`.
 * @example fc.assert(fc.property(arbScanProblem(), (p) => { laws.bptt(p); }))
 */
export const arbScanProblem = (opts: ScanProblemOptions = {}): fc.Arbitrary<ScanProblem> => {
  const { minLength = 0, maxLength = 8, families: fams = scanFamilies, maxBatch = 2, maxHidden = 3, maxInput = 3 } = opts;
  return fc
    .record({
      family: fc.constantFrom(...fams),
      length: fc.integer({ min: minLength, max: maxLength }),
      reverse: opts.reverse === undefined ? fc.boolean() : fc.constant(opts.reverse),
      batch: fc.integer({ min: 1, max: maxBatch }),
      hidden: fc.integer({ min: 1, max: maxHidden }),
      input: fc.integer({ min: 1, max: maxInput }),
    })
    .chain((d) => {
      const spec = families[d.family];
      const shapes = spec.params(d);
      const params = fc.record(Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, weight(s)])) as Record<string, fc.Arbitrary<T.Tensor>>);
      return fc
        .record({ params, init: spec.init(d), xs: spec.xs(d, d.length) })
        .map((parts) => scanProblem(d.family, { ...parts, length: d.length, reverse: d.reverse }));
    });
};
