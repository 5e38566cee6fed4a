/**
 * @file Random whole programs for property tests of the transforms (compile-, vmap- and
 * grad-programs): a program is a list of steps, each adding a value computed from earlier ones by a
 * view (transpose, slice, strided slice, reshape, flip, pad, concatenation, split, broadcast), an
 * elementwise op, a reduction (over one axis or several), a product, a gather or scatter-add, a
 * softmax, a cumulative op (sum, product, log-sum-exp, max, min, a linear scan), a scan (also with
 * truncated BPTT), an associative scan, a dtype round trip or an argmax one-hot. Every step list
 * is a valid program on any input shapes: a step whose op does not fit its operand falls back to
 * one that does, and each reads its operand's shape when traced, so the same steps run on one
 * example and under vmap.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { tensorOf, type GraphFn } from "./compileSupport.js";

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
  "scan",
  "tbptt",
  "assocScan",
  "takeIds",
  "addAt",
  "stridedSlice",
  "cumulative",
  "cumExtreme",
  "rotate",
  "reduceAxes",
  "astype",
  "argmaxOneHot",
] as const;

/** One instruction: what it does, and numbers from which it picks operands, axes and windows. */
export interface Step {
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

/** One step of any kind. */
export const arbStep: fc.Arbitrary<Step> = fc.record({
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
const apply = (s: Step, pool: readonly Value[], ids: Value | undefined): Value => {
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
      if (rank === 0) return A.mul(x, 1.5);
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
      return rank === 0 ? A.square(x) : A.concat([x, y.shape.join() === x.shape.join() ? y : A.neg(x)], axis);
    case "flip":
      return rank === 0 ? A.neg(x) : A.flip(x, axis);
    case "pad":
      return rank === 0
        ? A.softplus(x)
        : A.pad(
            x,
            x.shape.map((_, i) => (i === axis ? ([s.n2 % 3, s.b % 3] as const) : ([0, 0] as const))),
            s.flag ? 0 : -1.5,
          );
    case "cumsum":
      return rank === 0 ? A.add(x, 0.25) : A.cumsum(x, { axis, reverse: s.flag });
    case "where":
      return A.where(A.greater(x, partner(x, y)), x, s.flag ? partner(x, y) : A.neg(x));
    case "take": {
      if (rank === 0) return A.sigmoid(x);
      const ids = [s.n2 % dim, (s.n2 + s.b) % dim, dim - 1, 0].slice(0, 1 + (s.b % 4));
      return A.take(x, ids, axis);
    }
    case "takeIds":
      return rank === 0 ? A.sigmoid(x) : A.take(x, indicesFor(ids, dim, s), axis);
    case "addAt": {
      // Rows scattered back onto x at the same (possibly repeated) positions: they add up.
      if (rank === 0) return A.mul(x, 2);
      const at = indicesFor(ids, dim, s);
      return A.addAt(x, at, A.mul(A.take(x, at, axis), 0.5), axis);
    }
    case "broadcast":
      return rank >= 3 ? A.sum(x, { axis: 0 }) : A.broadcastTo(x, [1 + (s.n2 % 3), ...x.shape]);
    case "stridedSlice": {
      // Every second element, or the axis walked backwards (step −1 or −2), from an offset.
      if (rank === 0) return A.neg(x);
      const step = [2, -1, -2][s.n2 % 3]!;
      const start = step > 0 ? s.b % Math.min(2, dim) : dim - 1 - (s.b % Math.min(2, dim));
      return A.slice(
        x,
        x.shape.map((_, i) => (i === axis ? { start, step } : null)),
      );
    }
    case "cumulative": {
      if (rank === 0) return A.softplus(x);
      const options = { axis, reverse: s.flag };
      const which = s.n2 % 3;
      if (which === 0) return A.cumprod(A.tanh(x), options);
      if (which === 1) return A.logcumsumexp(x, options);
      return A.linearScan(A.sigmoid(x), x, options);
    }
    case "cumExtreme":
      return rank === 0 ? A.abs(x) : (s.n2 % 2 === 0 ? A.cummax : A.cummin)(x, { axis, reverse: s.flag });
    case "rotate": {
      // Split along the axis and put the pieces back in the other order (split, concat).
      if (rank === 0 || dim < 2) return A.sigmoid(x);
      const [head, tail] = A.split(x, [1 + (s.n2 % (dim - 1))], axis) as [Value, Value];
      return A.concat([tail, head], axis);
    }
    case "reduceAxes":
      // Over every axis at once, or the first and last kept as size 1 (a multi-axis reduction).
      return rank < 2 || !s.flag ? A[s.reduce](x) : A[s.reduce](x, { axis: [0, rank - 1], keepDims: true });
    case "scan":
      return rank === 0 ? A.tanh(x) : scanOver(s, x, y);
    case "tbptt":
      return rank === 0 ? A.tanh(x) : scanOver(s, x, y, true);
    case "assocScan": {
      // The linear recurrence h_t = a_t·h_{t−1} + x_t with gates a = σ(x), all prefixes at once.
      if (rank === 0) return A.sigmoid(x);
      const [, h] = A.associativeScan(
        ([a1, b1]: [Value, Value], [a2, b2]: [Value, Value]): [Value, Value] => [
          A.mul(a1, a2),
          A.add(A.mul(a2, b1), b2),
        ],
        [A.sigmoid(x), x] as [Value, Value],
        { axis, reverse: s.flag },
      );
      return h;
    }
    case "astype": {
      // A round trip through the other float dtype (float64 → float32 rounds; the way back is exact).
      const other = x.dtype === "float32" ? "float64" : "float32";
      return A.astype(unary(s.unary, A.astype(x, other)), x.dtype);
    }
    case "argmaxOneHot":
      // What a classification loss does: pick each row's largest entry by a one-hot mask.
      return rank === 0
        ? A.neg(x)
        : A.sum(A.mul(x, A.oneHot(A.argmax(x, { axis: -1 }), x.shape.at(-1)!, x.dtype)), { axis: -1 });
  }
};

/**
 * Positions along an axis of `dim` from the program's int32 input, clamped into [−dim, dim) in
 * the graph (negative ones count from the end), so that they follow the input under vmap; literal
 * positions when the program has no such input.
 */
const indicesFor = (ids: Value | undefined, dim: number, s: Step): Value | number[] =>
  ids === undefined ? [s.n2 % dim, 0] : A.minimum(A.maximum(ids, -dim), dim - 1);

/**
 * A scan over x's leading axis: the carry (x's first row, scaled) is mixed with each row, passed
 * through a unary op, and, when y broadcasts to it, with y closed over (a constant of the body).
 * Forward or reverse, unrolled by 2 or rematerialized (carries only, or every second step), by the
 * option `n2` picks, or with `truncate` its gradient cut every 2 steps (truncated BPTT: not the
 * function's derivative, so the smooth programs leave it out); the result is the final carry or
 * the stacked outputs.
 */
const scanOver = (s: Step, x: Value, y: Value, truncate = false): Value => {
  const first = A.mul(A.take(x, [0], 0), 0.5);
  const init = A.reshape(first, x.shape.slice(1));
  const closed = broadcastsTo(y.shape, init.shape) ? y : undefined;
  const options = truncate
    ? { truncate: 2, reverse: s.flag }
    : [{}, { reverse: true }, { unroll: 2 }, { remat: "carries" as const }, { remat: { every: 2 } }][s.n2 % 5]!;
  const [carry, ys] = A.scan(
    (c: Value, row: Value): [Value, Value] => {
      const mixed = A.add(A.mul(c, 0.75), row);
      const next = unary(s.unary, closed === undefined ? mixed : A.sub(mixed, A.mul(closed, 0.25)));
      return [next, s.flag ? A.mul(next, c) : A.sigmoid(next)];
    },
    init,
    x,
    options,
  );
  return s.b % 2 === 0 ? carry : ys;
};

/**
 * The program: each step adds a value; the outputs are the last two values made. The float inputs
 * start the pool; an int32 input (see `arbInputs`) only gives positions to gathers and scatters.
 */
export const program =
  (steps: readonly Step[]): GraphFn =>
  (...inputs: Value[]) => {
    const pool = inputs.filter((v) => v.dtype !== "int32");
    const ids = inputs.find((v) => v.dtype === "int32");
    for (const s of steps) pool.push(apply(s, pool, ids));
    return pool.slice(-2);
  };

/** A scalar of every output, for gradients: each output's values weighted so that no two cancel. */
export const lossOf =
  (f: GraphFn) =>
  (...inputs: Value[]): Value => {
    const outs = f(...inputs) as Value[];
    return outs.map((o, i) => A.sum(A.mul(o, i + 1.25))).reduce((total, term) => A.add(total, term));
  };

/**
 * ⟨∇loss, u⟩ over loss's first three arguments (x, w, b; any further one, the positions, passes
 * through): a scalar whose gradient is the Hessian-vector product H·u.
 * @example gradAlong(lossOf(program(steps)), [ux, uw, ub])(x, w, b, ids)
 */
export const gradAlong =
  (loss: (...xs: Value[]) => Value, u: readonly Value[]) =>
  (...xs: Value[]): Value =>
    (A.grad(loss, { argnums: [0, 1, 2] })(...xs) as Value[])
      .map((g, i) => A.sum(A.mul(g, u[i]!)))
      .reduce((total, term) => A.add(total, term));

/**
 * The Hessian-vector product H·u of `loss` over its first three arguments.
 * @example hessianVectorProduct(lossOf(program(steps)), [ux, uw, ub])(x, w, b, ids) // [Hx·u, Hw·u, Hb·u]
 */
export const hessianVectorProduct =
  (loss: (...xs: Value[]) => Value, u: readonly Value[]) =>
  (...xs: Value[]): Value[] =>
    A.grad(gradAlong(loss, u), { argnums: [0, 1, 2] })(...xs);

/**
 * The inputs: x [r, c], w [c, k], b [c] and int32 positions [m] in [−7, 7]. Dims up to 5, or up to
 * 13 in a third of the cases, where products reach the WebAssembly kernels on the runner's memory
 * (≥ 512 multiply-adds, which the pairing of products needs) and loops have whole SIMD vectors and
 * ragged ends.
 */
export const arbInputs = (dtype: "float32" | "float64", awkwardToo: boolean) =>
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
        fc.integer({ min: 1, max: 5 }).chain((m) => tensorOf([m], "int32")),
      ),
    );

/** Programs of 1–8 steps of any kind. */
export const arbSteps = fc.array(arbStep, { minLength: 1, maxLength: 8 });

/**
 * Steps of smooth programs, for checks against finite differences: no kinks or jumps (abs, relu,
 * maximum, max/min reductions and cumulative ops, where, argmax), no division (a denominator near
 * zero), no float32 round trip, no exp (chains of it overflow), no prod reduction (its values are
 * not kept away from zero) and no truncated BPTT (its gradient is not the derivative). Up to 5 steps.
 */
export const arbSmoothSteps = fc.array(
  fc.record({
    kind: fc.constantFrom(
      ...KINDS.filter((k) => !["where", "argmaxOneHot", "astype", "cumExtreme", "tbptt"].includes(k)),
      "matmul",
      "transpose",
    ),
    unary: fc.constantFrom("tanh", "sigmoid", "neg", "square", "softplus"),
    binary: fc.constantFrom("add", "sub", "mul"),
    reduce: fc.constantFrom("sum", "mean", "logSumExp"),
    a: fc.nat({ max: 1000 }),
    b: fc.nat({ max: 1000 }),
    n1: fc.nat({ max: 1000 }),
    n2: fc.nat({ max: 1000 }),
    flag: fc.boolean(),
  }),
  { minLength: 1, maxLength: 5 },
);

/**
 * `numRuns` cases from the project's seed; `RUNS=20000 SEED=7 vitest run …` hunts further (the
 * chained flip of compile-flip-products.test.ts was found so, at 2,000 runs).
 */
export const runs = (numRuns: number): fc.Parameters<unknown> => {
  // Read through globalThis: this package's tests are typed without Node's globals.
  const env = (globalThis as { process?: { env: { RUNS?: string; SEED?: string } } }).process?.env ?? {};
  return {
    numRuns: Number(env.RUNS ?? numRuns),
    ...(env.SEED === undefined ? {} : { seed: Number(env.SEED) }),
  };
};
