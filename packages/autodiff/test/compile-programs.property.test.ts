/**
 * @file Random whole programs through the compiler: chains that mix views (transposes, slices,
 * reshapes, flips, pads, concatenations, broadcasts), elementwise ops, reductions, products,
 * gathers, softmaxes and cumulative sums over values of changing shapes, in float32 and float64,
 * and their gradients. The compiled runner (WebAssembly kernels, and the JavaScript backend) must
 * give the interpreter's bits.
 *
 * The other property tests of the compiler each cover one area (elementwise programs, reductions,
 * indexing, the rewrites); the bugs that hide between areas, where a fusion meets a view that a
 * rewrite moved, need programs in which any op can follow any other.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, expectBits, tensorOf, type GraphFn } from "./compileSupport.js";

const UNARY = ["exp", "tanh", "sigmoid", "neg", "abs", "relu", "square", "softplus", "sqrtAbs", "log1pAbs"] as const;
const BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"] as const;
const REDUCE = ["sum", "max", "min", "mean", "logSumExp", "prod"] as const;
const KINDS = [
  "unary",
  "binary",
  "transpose",
  "slice",
  "reduce",
  "matmul",
  "softmax",
  "reshape",
  "concat",
  "flip",
  "pad",
  "cumsum",
  "where",
  "take",
  "broadcast",
] as const;

/** One instruction: what it does, and numbers from which it picks operands, axes and windows. */
interface Step {
  readonly kind: (typeof KINDS)[number];
  readonly unary: (typeof UNARY)[number];
  readonly binary: (typeof BINARY)[number];
  readonly reduce: (typeof REDUCE)[number];
  readonly a: number;
  readonly b: number;
  readonly n1: number;
  readonly n2: number;
  readonly flag: boolean;
}

const arbStep: fc.Arbitrary<Step> = fc.record({
  // Products and transposes thrice as often: the compiler's product rewrites meet in their chains.
  kind: fc.constantFrom(...KINDS, "matmul", "matmul", "transpose", "transpose"),
  unary: fc.constantFrom(...UNARY),
  binary: fc.constantFrom(...BINARY),
  reduce: fc.constantFrom(...REDUCE),
  a: fc.nat({ max: 1000 }),
  b: fc.nat({ max: 1000 }),
  n1: fc.nat({ max: 1000 }),
  n2: fc.nat({ max: 1000 }),
  flag: fc.boolean(),
});

const unary = (op: Step["unary"], x: Value): Value => {
  switch (op) {
    case "sqrtAbs":
      return A.sqrt(A.abs(x));
    case "log1pAbs":
      return A.log1p(A.abs(x));
    default:
      return A[op](x);
  }
};

/** Whether `b`'s shape broadcasts to `a`'s (trailing dims equal or 1, rank not above a's). */
const broadcastsTo = (b: readonly number[], a: readonly number[]): boolean =>
  b.length <= a.length && b.every((d, i) => d === 1 || d === a[a.length - b.length + i]);

/** A value of the same shape as `x` from `y`: `y` when it broadcasts to x, else y's mean (a scalar). */
const partner = (x: Value, y: Value): Value => (broadcastsTo(y.shape, x.shape) ? y : A.mean(y));

/**
 * Applies `s` to the values made so far (the inputs first): always a new value, whatever the
 * shapes (an op that does not fit its operand falls back to one that does), so every step list is
 * a valid program.
 */
const apply = (s: Step, pool: readonly Value[]): Value => {
  const x = pool[s.a % pool.length]!;
  const y = pool[s.b % pool.length]!;
  const rank = x.shape.length;
  const axis = rank === 0 ? 0 : s.n1 % rank;
  const dim = x.shape[axis] ?? 1;
  switch (s.kind) {
    case "unary":
      return unary(s.unary, x);
    case "binary":
      return s.flag ? A[s.binary](x, partner(x, y)) : A[s.binary](x, (s.n2 % 7) - 3 + 0.5);
    case "transpose":
      return rank < 2 ? A.neg(x) : A.transpose(x);
    case "slice": {
      if (rank === 0) return A.exp(x);
      const start = s.n2 % dim;
      const stop = start + 1 + (s.b % (dim - start));
      return A.slice(
        x,
        x.shape.map((_, i) => (i === axis ? { start, stop } : null)),
      );
    }
    case "reduce":
      return rank === 0 ? A.tanh(x) : A[s.reduce](x, { axis, keepDims: s.flag });
    case "matmul": {
      if (rank !== 2) return A.sigmoid(x);
      // x · yᵀ when y is a matrix of as many columns, else x · xᵀ or xᵀ · x.
      if (y.shape.length === 2 && y.shape[1] === x.shape[1]) return A.matmul(x, A.transpose(y));
      return s.flag ? A.matmul(x, A.transpose(x)) : A.matmul(A.transpose(x), x);
    }
    case "softmax":
      return rank === 0 ? A.square(x) : s.flag ? A.softmax(x, axis) : A.logSoftmax(x, axis);
    case "reshape": {
      const n = T.sizeOf(x.shape);
      const cols = [4, 3, 2, 1].find((c) => n % c === 0 && (s.n2 + c) % 2 === 0) ?? 1;
      return s.flag ? A.reshape(x, [n]) : A.reshape(x, [n / cols, cols]);
    }
    case "concat":
      return rank === 0 ? A.abs(x) : A.concat([x, y.shape.join() === x.shape.join() ? y : A.neg(x)], axis);
    case "flip":
      return rank === 0 ? A.neg(x) : A.flip(x, axis);
    case "pad":
      return rank === 0
        ? A.relu(x)
        : A.pad(
            x,
            x.shape.map((_, i) => (i === axis ? ([s.n2 % 3, s.b % 3] as const) : ([0, 0] as const))),
            s.flag ? 0 : -1.5,
          );
    case "cumsum":
      return rank === 0 ? A.exp(x) : A.cumsum(x, { axis, reverse: s.flag });
    case "where":
      return A.where(A.greater(x, partner(x, y)), x, s.flag ? partner(x, y) : A.neg(x));
    case "take": {
      if (rank === 0) return A.sigmoid(x);
      const ids = [s.n2 % dim, (s.n2 + s.b) % dim, dim - 1, 0].slice(0, 1 + (s.b % 4));
      return A.take(x, ids, axis);
    }
    case "broadcast":
      return rank >= 3 ? A.sum(x, { axis: 0 }) : A.broadcastTo(x, [1 + (s.n2 % 3), ...x.shape]);
  }
};

/** The program: each step adds a value; the outputs are the last two values made. */
const program =
  (steps: readonly Step[]): GraphFn =>
  (...inputs: Value[]) => {
    const pool = [...inputs];
    for (const s of steps) pool.push(apply(s, pool));
    return pool.slice(-2);
  };

/** A scalar of every output, for gradients: each output's values weighted so that no two cancel. */
const lossOf =
  (f: GraphFn) =>
  (...inputs: Value[]): Value => {
    const outs = f(...inputs) as Value[];
    return outs.map((o, i) => A.sum(A.mul(o, i + 1.25))).reduce((total, term) => A.add(total, term));
  };

/**
 * The inputs: x [r, c], w [c, k] and b [c]. Dims up to 5, or up to 13 in a third of the cases, where
 * products reach the WebAssembly kernels on the runner's memory (≥ 512 multiply-adds, which the
 * pairing of products needs) and loops have whole SIMD vectors and ragged ends.
 */
const arbInputs = (dtype: "float32" | "float64", awkwardToo: boolean) =>
  fc
    .oneof(fc.constant(5), fc.constant(5), fc.constant(13))
    .chain((most) =>
      fc.tuple(fc.integer({ min: 1, max: most }), fc.integer({ min: 1, max: most }), fc.integer({ min: 1, max: 4 })),
    )
    .chain(([r, c, k]) =>
      fc.tuple(
        tensorOf([r, c], dtype, awkwardToo ? undefined : fc.double({ min: -3, max: 3, noNaN: true })),
        tensorOf([c, k], dtype, fc.double({ min: -3, max: 3, noNaN: true })),
        tensorOf([c], dtype, fc.double({ min: -3, max: 3, noNaN: true })),
      ),
    );

const arbSteps = fc.array(arbStep, { minLength: 1, maxLength: 8 });

/**
 * `numRuns` cases from the project's seed; `RUNS=20000 SEED=7 vitest run …` hunts further (the
 * chained flip of compile-flip-products.test.ts was found so, at 2,000 runs).
 */
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.RUNS ?? numRuns),
  ...(process.env.SEED === undefined ? {} : { seed: Number(process.env.SEED) }),
});

describe("compile: random programs give the interpreter's bits", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`forward, ${dtype} (NaN, ±∞, ±0 among the values)`, () => {
      fc.assert(
        fc.property(arbSteps, arbInputs(dtype, true), (steps, inputs) => {
          compileBothWays("program", program(steps), inputs);
        }),
        runs(300),
      );
    });

    it(`value and gradient, ${dtype}`, () => {
      fc.assert(
        fc.property(arbSteps, arbInputs(dtype, false), (steps, inputs) => {
          const vg = A.valueAndGrad(lossOf(program(steps)), { argnums: [0, 1, 2] });
          const run = (compile: boolean): unknown =>
            A.jit(vg as (...a: unknown[]) => unknown, { compile, warnRetraces: false })(...inputs);
          expectBits("program's value and gradient", run(true), run(false));
        }),
        runs(200),
      );
    });
  }
});
