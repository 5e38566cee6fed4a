/**
 * @file One export case per primitive, in a table keyed by `PrimitiveName`: a primitive added to
 * Rewind without a case here fails to compile, and primitives.test.ts checks that each case's
 * traced graph really uses its primitive.
 */
import * as A from "@rewind/autodiff";
import type { PrimitiveName, Value } from "@rewind/autodiff";
import { fromDataOrThrow, type DType, type Tensor } from "@rewind/tensor";

/** Deterministic values from a seed (a small LCG: the tests' inputs, not Rewind's randomness). */
export class Values {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  private next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }
  /** A tensor of `shape`: floats in [lo, hi), ints in [−5, 5], bools with both values. */
  t(shape: readonly number[], dtype: DType = "float32", lo = -3, hi = 3): Tensor {
    const n = shape.reduce((a, d) => a * d, 1);
    const data = Array.from({ length: n }, () => {
      const u = this.next();
      if (dtype === "bool") return u < 0.5 ? 0 : 1;
      if (dtype === "int32") return Math.floor(u * 11) - 5;
      return lo + (hi - lo) * u;
    });
    return fromDataOrThrow(data, [...shape], dtype);
  }
  /** int32 indices in [−n, n) (negative ones count from the end, as Rewind allows). */
  indices(shape: readonly number[], n: number): Tensor {
    const count = shape.reduce((a, d) => a * d, 1);
    const data = Array.from({ length: count }, () => Math.floor(this.next() * 2 * n) - n);
    return fromDataOrThrow(data, [...shape], "int32");
  }
}

/** An export case: a function of tensors, and its arguments for a shape, dtype and value source. */
export interface Case {
  /** The dtypes to test it in. */
  readonly dtypes: readonly DType[];
  /** The function to export. */
  readonly f: (...args: never[]) => unknown;
  /** Its arguments, for a random shape of rank ≥ 1 (cases needing more pick their own shapes). */
  readonly args: (v: Values, shape: readonly number[], dtype: DType) => readonly unknown[];
}

const F = ["float32", "float64"] as const;
const NUM = ["float32", "float64", "int32"] as const;
const ALL = ["float32", "float64", "int32", "bool"] as const;
type Fn1 = (x: Value) => Value;
type Fn2 = (x: Value, y: Value) => Value;

const unary = (op: Fn1, dtypes: readonly DType[] = F, lo = -3, hi = 3): Case => ({
  dtypes,
  f: op,
  args: (v, s, d) => [v.t(s, d, lo, hi)],
});
const binary = (op: Fn2, dtypes: readonly DType[] = NUM, lo = -3, hi = 3): Case => ({
  dtypes,
  f: op,
  args: (v, s, d) => [v.t(s, d, lo, hi), v.t(s, d, lo, hi)],
});
const last = (s: readonly number[]) => s.length - 1;

/** The cases, or `"unsupported"` for primitives the exporter refuses (errors.test.ts covers those). */
export const cases: { readonly [K in PrimitiveName]: Case | "unsupported" } = {
  neg: unary(A.neg, NUM),
  abs: unary(A.abs, NUM),
  exp: unary(A.exp),
  expm1: unary(A.expm1, F, -1e-3, 1e-3),
  log: unary(A.log, F, 1e-3, 5),
  log1p: unary(A.log1p, F, -1e-4, 1e-4),
  sqrt: unary(A.sqrt, F, 0, 5),
  sin: unary(A.sin),
  cos: unary(A.cos),
  tanh: unary(A.tanh),
  logistic: unary(A.sigmoid),
  softplus: unary(A.softplus, F, -40, 40),
  sign: unary(A.sign, NUM),
  floor: unary(A.floor, NUM),
  ceil: unary(A.ceil, NUM),
  round: {
    dtypes: F,
    f: A.round,
    args: (v, s, d) => [A.mul(v.t(s, "int32"), 0.5) as Tensor].map((x) => A.astype(x, d)),
  },
  isNaN: { dtypes: F, f: (x: Value) => A.isNaN(A.log(x)), args: (v, s, d) => [v.t(s, d)] },
  isFinite: {
    dtypes: F,
    f: (x: Value) => A.isFinite(A.div(1, x)),
    args: (v, s, d) => [A.astype(v.t(s, "int32"), d)],
  },
  logicalNot: unary(A.logicalNot, ALL),
  add: binary(A.add),
  sub: binary(A.sub),
  mul: binary(A.mul),
  div: binary(A.div, F, 0.5, 3),
  pow: { dtypes: F, f: A.pow, args: (v, s, d) => [v.t(s, d, 0.1, 3), v.t(s, d, -2, 2)] },
  maximum: binary(A.maximum),
  minimum: binary(A.minimum),
  equal: {
    dtypes: ALL,
    f: A.equal,
    args: (v, s, d) =>
      [v.t(s, d === "bool" ? d : "int32"), v.t(s, d === "bool" ? d : "int32")].map((x) => A.astype(x, d)),
  },
  notEqual: {
    dtypes: NUM,
    f: A.notEqual,
    args: (v, s, d) => [v.t(s, "int32"), v.t(s, "int32")].map((x) => A.astype(x, d)),
  },
  less: binary(A.less),
  lessEqual: {
    dtypes: NUM,
    f: A.lessEqual,
    args: (v, s, d) => [v.t(s, "int32"), v.t(s, "int32")].map((x) => A.astype(x, d)),
  },
  greater: binary(A.greater),
  greaterEqual: {
    dtypes: NUM,
    f: A.greaterEqual,
    args: (v, s, d) => [v.t(s, "int32"), v.t(s, "int32")].map((x) => A.astype(x, d)),
  },
  logicalAnd: binary(A.logicalAnd, ALL),
  logicalOr: binary(A.logicalOr, ALL),
  select: {
    dtypes: ALL,
    f: (c: Value, a: Value, b: Value) => A.where(c, a, b),
    args: (v, s, d) => [v.t(s, "bool"), v.t(s, d), v.t(s, d)],
  },
  sum: { dtypes: NUM, f: (x: Value) => [A.sum(x), A.sum(x, { axis: 0 })], args: (v, s, d) => [v.t(s, d)] },
  reduceMax: { dtypes: NUM, f: (x: Value) => A.max(x, { axis: -1 }), args: (v, s, d) => [v.t(s, d)] },
  reduceMin: { dtypes: NUM, f: (x: Value) => A.min(x, { axis: 0 }), args: (v, s, d) => [v.t(s, d)] },
  prod: { dtypes: NUM, f: (x: Value) => A.prod(x, { axis: -1 }), args: (v, s, d) => [v.t(s, d, 0.5, 1.5)] },
  argmax: { dtypes: NUM, f: (x: Value) => A.argmax(x, { axis: -1 }), args: (v, s, d) => [v.t(s, d)] },
  argmin: { dtypes: NUM, f: (x: Value) => A.argmin(x, { axis: 0 }), args: (v, s, d) => [v.t(s, d)] },
  cumsum: {
    dtypes: NUM,
    f: (x: Value) => [A.cumsum(x), A.cumsum(x, { axis: 0, reverse: true })],
    args: (v, s, d) => [v.t(s, d)],
  },
  cumprod: {
    dtypes: NUM,
    f: (x: Value) => [A.cumprod(x), A.cumprod(x, { axis: 0, reverse: true })],
    args: (v, s, d) => [v.t(s, d, 0.5, 1.5)],
  },
  cummax: {
    dtypes: NUM,
    f: (x: Value) => [A.cummax(x), A.cummax(x, { axis: 0, reverse: true })],
    args: (v, s, d) => [v.t(s, d)],
  },
  cummin: {
    dtypes: NUM,
    f: (x: Value) => [A.cummin(x, { axis: 0 }), A.cummin(x, { reverse: true })],
    args: (v, s, d) => [v.t(s, d)],
  },
  logcumsumexp: {
    dtypes: F,
    f: (x: Value) => [A.logcumsumexp(x), A.logcumsumexp(A.log(A.abs(x)), { axis: 0, reverse: true })],
    // a zero gives log 0 = −∞ in the second output: −∞ entries must combine without NaN
    args: (v, s, d) => [A.mul(v.t(s, d), A.astype(v.t(s, "bool"), d))],
  },
  linearScan: {
    dtypes: F,
    f: (a: Value, b: Value) => [A.linearScan(a, b), A.linearScan(a, b, { axis: 0, reverse: true })],
    args: (v, s, d) => [v.t(s, d, -1, 1), v.t(s, d)],
  },
  broadcastTo: {
    dtypes: ALL,
    f: (x: Value) => A.broadcastTo(x, [2, ...x.shape]),
    args: (v, s, d) => [v.t(s, d)],
  },
  reshape: {
    dtypes: ALL,
    f: (x: Value) => A.reshape(x, [1, ...x.shape, 1]),
    args: (v, s, d) => [v.t(s, d)],
  },
  transpose: {
    dtypes: ALL,
    f: (x: Value) => A.transpose(x, [...x.shape.keys()].reverse()),
    args: (v, s, d) => [v.t([...s, 2], d)],
  },
  slice: {
    dtypes: ALL,
    f: (x: Value) => [
      A.slice(x, [{ start: 1, step: 2 }]),
      A.slice(x, [null, { step: -1 }]),
      A.slice(x, [{ start: -1, stop: 0, step: -2 }]),
    ],
    args: (v, s, d) => [v.t([3, ...s], d)],
  },
  unslice: {
    dtypes: NUM,
    f: (x: Value) => A.unslice(x, [5, x.shape[1]!], { start: [4, 0], step: [-2, 1], size: [x.shape[0]!, x.shape[1]!] }),
    args: (v, s, d) => [v.t([2, s[0]!], d)],
  },
  flip: {
    dtypes: ALL,
    f: (x: Value) => [A.flip(x), A.flip(x, last(x.shape))],
    args: (v, s, d) => [v.t(s, d)],
  },
  pad: {
    dtypes: NUM,
    f: (x: Value) =>
      A.pad(
        x,
        x.shape.map((_, i) => [i, 1] as const),
        1.5,
      ),
    args: (v, s, d) => [v.t(s, d)],
  },
  concat: {
    dtypes: ALL,
    f: (x: Value, y: Value) => A.concat([x, y, x], 0),
    args: (v, s, d) => [v.t(s, d), v.t(s, d)],
  },
  convert: {
    dtypes: ALL,
    f: (x: Value) => (["float32", "float64", "int32", "bool"] as const).map((t) => A.astype(x, t)),
    args: (v, s, d) => [v.t(s, d)],
  },
  take: {
    dtypes: ALL,
    f: (x: Value, i: Value) => A.take(x, i, 0),
    args: (v, s, d) => [v.t(s, d), v.indices([2, 3], s[0]!)],
  },
  addAt: {
    dtypes: NUM,
    f: (x: Value, i: Value, u: Value) => A.addAt(x, i, u, last(x.shape)),
    args: (v, s, d) => [v.t(s, d), v.indices([4], s[last(s)]!), v.t([...s.slice(0, -1), 4], d)],
  },
  gather: {
    dtypes: ALL,
    f: (x: Value, i: Value) => A.gather(x, i, 0),
    args: (v, s, d) => [v.t(s, d), v.indices([3, ...s.slice(1)], s[0]!)],
  },
  addAlongAxis: {
    dtypes: NUM,
    f: (x: Value, i: Value, u: Value) => A.addAlongAxis(x, i, u, 0),
    args: (v, s, d) => [v.t(s, d), v.indices([3, ...s.slice(1)], s[0]!), v.t([3, ...s.slice(1)], d)],
  },
  matmul: {
    dtypes: NUM,
    f: (a: Value, b: Value) => A.matmul(a, b),
    args: (v, s, d) => [v.t([2, ...s.slice(-1)], d), v.t([...s.slice(-1), 3], d)],
  },
  randomSample: "unsupported",
  keySplit: "unsupported",
  keyFoldIn: "unsupported",
  stopGradient: unary(A.stopGradient, ALL),
  remat: { dtypes: F, f: A.remat((x: Value) => A.tanh(A.mul(x, x))), args: (v, s, d) => [v.t(s, d)] },
  customVjp: {
    dtypes: F,
    f: A.customVjp(
      (x: Value) => A.exp(x),
      (x: Value) => [A.exp(x), x] as const,
      (_r, ct) => [ct],
    ),
    args: (v, s, d) => [v.t(s, d)],
  },
  scan: {
    dtypes: NUM,
    f: (h: Value, xs: Value) =>
      A.scan(
        (c: Value, x: Value) => {
          const n = A.add(A.mul(c, 2), x);
          return [n, A.neg(n)];
        },
        h,
        xs,
      ),
    args: (v, s, d) => [v.t(s.slice(1), d), v.t(s, d)],
  },
};
