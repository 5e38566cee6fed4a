/**
 * @file `laws.vmap` holds for every primitive, through a table typed by `PrimitiveName` (a
 * primitive added without an entry does not compile; it mirrors autodiff's own bit-for-bit table
 * in packages/autodiff/test/vmap-law.test.ts, here through the public law: values, gradients and
 * jit), in float32 and float64, with the batch axis first, last, or absent on one argument.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { registry, type AxisSpec, type PrimitiveName, type Value } from "@rewind/autodiff";
import { laws } from "../src/index.js";

type DType = "float32" | "float64";
/** How many examples each case batches. */
const N = 3;

/** One row: one example's argument shapes (an int row is `{ int: [shape, lo, hi] }`), f, and options. */
interface Row {
  readonly args: ReadonlyArray<readonly number[] | { readonly int: readonly [readonly number[], number, number] }>;
  readonly f: (...args: Value[]) => unknown;
  /** The float arguments' range (default [-2, 2)). */
  readonly range?: readonly [number, number];
  /** Also run with this argument unbatched (inAxes null). */
  readonly shared?: number;
}

const unary = (f: (x: Value) => unknown, range?: readonly [number, number]): Row => ({
  args: [[2, 3]],
  f,
  ...(range === undefined ? {} : { range }),
});
const binary = (f: (a: Value, b: Value) => Value): Row => ({
  args: [
    [2, 3],
    [2, 3],
  ],
  f,
  shared: 1,
});
const reduce = (f: (x: Value) => unknown): Row => ({ args: [[2, 3, 4]], f });

const table: { readonly [K in PrimitiveName]: Row } = {
  neg: unary(A.neg),
  abs: unary(A.abs),
  exp: unary(A.exp),
  expm1: unary(A.expm1),
  log: unary(A.log, [0.125, 3]),
  log1p: unary(A.log1p, [0, 3]),
  sqrt: unary(A.sqrt, [0.125, 3]),
  sin: unary(A.sin),
  cos: unary(A.cos),
  tanh: unary(A.tanh),
  logistic: unary(A.sigmoid),
  softplus: unary(A.softplus),
  sign: unary(A.sign),
  floor: unary(A.floor),
  ceil: unary(A.ceil),
  round: unary(A.round),
  isNaN: unary((x) => A.isNaN(A.log(x))),
  isFinite: unary((x) => A.isFinite(A.div(1, A.floor(x)))),
  logicalNot: unary((x) => A.logicalNot(A.greater(x, 0))),
  add: binary(A.add),
  sub: binary(A.sub),
  mul: binary(A.mul),
  div: binary(A.div),
  pow: {
    args: [
      [2, 3],
      [2, 3],
    ],
    f: (a, b) => A.pow(A.add(A.abs(a), 0.5), b),
    shared: 1,
  },
  maximum: binary(A.maximum),
  minimum: binary(A.minimum),
  equal: binary((a, b) => A.equal(A.round(a), A.round(b))),
  notEqual: binary((a, b) => A.notEqual(A.round(a), A.round(b))),
  less: binary(A.less),
  lessEqual: binary(A.lessEqual),
  greater: binary(A.greater),
  greaterEqual: binary(A.greaterEqual),
  logicalAnd: binary((a, b) => A.logicalAnd(A.greater(a, 0), A.greater(b, 0))),
  logicalOr: binary((a, b) => A.logicalOr(A.greater(a, 0), A.greater(b, 0))),
  select: {
    args: [
      [2, 3],
      [2, 3],
      [2, 3],
    ],
    f: (c, a, b) => A.where(A.greater(c, 0), a, b),
    shared: 2,
  },
  sum: reduce((x) => [A.sum(x, { axis: 1 }), A.sum(x), A.sum(x, { axis: [0, 2] })]),
  reduceMax: reduce((x) => [A.max(x, { axis: 0 }), A.max(x, { axis: [1, 2] })]),
  reduceMin: reduce((x) => [A.min(x, { axis: 2 }), A.min(x)]),
  prod: reduce((x) => [A.prod(x, { axis: 1 }), A.prod(x, { axis: [0, 2] })]),
  argmax: reduce((x) => [A.argmax(x, { axis: 0 }), A.argmax(x, { axis: 2 })]),
  argmin: reduce((x) => [A.argmin(x, { axis: 1 }), A.argmin(x, { axis: 2 })]),
  cumsum: reduce((x) => [A.cumsum(x, { axis: 0 }), A.cumsum(x, { axis: 1, reverse: true })]),
  cumprod: reduce((x) => [A.cumprod(x, { axis: 2 }), A.cumprod(x, { axis: 0, reverse: true })]),
  cummax: reduce((x) => [A.cummax(x, { axis: 1 }), A.cummax(x, { axis: 2, reverse: true })]),
  cummin: reduce((x) => [A.cummin(x, { axis: 0 }), A.cummin(x, { axis: 2, reverse: true })]),
  linearScan: {
    args: [
      [2, 3, 4],
      [2, 3, 4],
    ],
    f: (a, b) => [A.linearScan(a, b, { axis: 1 }), A.linearScan(a, b, { axis: 0, reverse: true })],
    shared: 1,
  },
  logcumsumexp: reduce((x) => [A.logcumsumexp(x, { axis: 1 }), A.logcumsumexp(x, { axis: 2, reverse: true })]),
  broadcastTo: { args: [[1, 3]], f: (x) => [A.broadcastTo(x, [2, 2, 3]), A.broadcastTo(x, [4, 3])] },
  reshape: { args: [[2, 3, 2]], f: (x) => [A.reshape(x, [3, 4]), A.reshape(x, [12])] },
  transpose: reduce((x) => [A.transpose(x, [2, 0, 1]), A.transpose(x, [1, 0, 2])]),
  slice: { args: [[3, 4]], f: (x) => A.sliceWindow(x, { start: [2, 0], step: [-1, 2], size: [2, 2] }) },
  unslice: { args: [[2, 2]], f: (x) => A.unslice(x, [3, 4], { start: [0, 1], step: [2, 1], size: [2, 2] }) },
  flip: unary((x) => A.add(A.flip(x, 1), A.flip(x, [0, 1]))),
  pad: unary((x) =>
    A.pad(
      x,
      [
        [1, 0],
        [0, 2],
      ],
      0.5,
    ),
  ),
  concat: {
    args: [
      [2, 3],
      [2, 1],
    ],
    f: (a, b) => [A.concat([a, b], 1), A.concat([b, a, b], -1)],
    shared: 1,
  },
  convert: unary((x) => [A.astype(A.mul(x, 3), "int32"), A.astype(x, "float64")]),
  take: { args: [[3, 3], { int: [[2, 2], -3, 2] }], f: (x, i) => [A.take(x, i, 0), A.take(x, i, 1)], shared: 0 },
  addAt: { args: [[3, 4], { int: [[3], 0, 3] }, [3, 3]], f: (x, i, v) => A.addAt(x, i, v, 1), shared: 2 },
  gather: { args: [[3, 4], { int: [[3, 2], 0, 3] }], f: (x, i) => A.gather(x, i, 1), shared: 1 },
  addAlongAxis: {
    args: [[3, 4], { int: [[3, 2], 0, 3] }, [3, 2]],
    f: (x, i, v) => A.addAlongAxis(x, i, v, 1),
    shared: 0,
  },
  matmul: {
    args: [
      [2, 3],
      [3, 4],
      [5, 2, 3],
      [5, 3, 2],
    ],
    f: (a, b, c, d) => [A.matmul(a, b), A.matmul(c, d)],
    shared: 1,
  },
  stopGradient: unary((x) => A.mul(A.stopGradient(x), x)),
  remat: unary((x) => A.remat((y: Value) => A.tanh(A.mul(y, y)))(x)),
  customVjp: unary((x) =>
    A.customVjp(
      (y: Value) => A.mul(A.sin(y), 2),
      (y: Value) => [A.mul(A.sin(y), 2), y] as const,
      (y: Value, g: Value) => [A.mul(g, A.mul(A.cos(y), 2))],
    )(x),
  ),
  scan: {
    args: [[3], [4, 3]],
    f: (c0, xs) => A.scan((c: Value, x: Value) => [A.add(A.mul(c, 0.5), x), A.tanh(c)], c0, xs),
    shared: 0,
  },
  // Key data is int32 [2] (any two words are a key); a shared key gives every example one sample.
  randomSample: {
    args: [{ int: [[2], -99, 99] }, [2, 3]],
    f: (k, x) => [A.add(x, A.random.normal(k, x.shape, x.dtype)), A.random.uniform(k, [4], { dtype: x.dtype })],
    shared: 0,
  },
  keySplit: { args: [{ int: [[2], -99, 99] }, [2]], f: (k, x) => [A.random.split(k, 3), A.mul(x, 2)] },
  keyFoldIn: {
    args: [{ int: [[2], -99, 99] }, { int: [[], -9, 9] }, [2]],
    f: (k, d, x) => [A.random.foldIn(k, d), A.add(x, A.random.normal(A.random.foldIn(k, d), [2], x.dtype))],
    shared: 1,
  },
};

/** The batched arguments of a row: N examples stacked on `axis` of each (`shared` one unbatched). */
const argsOf = (row: Row, dtype: DType, seed: number, axis: number | "last", shared?: number) => {
  const [lo, hi] = row.range ?? [-2, 2];
  return row.args.map((a, i) => {
    const key = T.random.foldIn(T.random.key(seed), i);
    const shape = Array.isArray(a) ? a : (a as { int: readonly [readonly number[], number, number] }).int[0];
    const full = i === shared ? shape : axis === "last" ? [...shape, N] : [N, ...shape];
    if (Array.isArray(a)) return T.random.uniform(key, full, { min: lo, max: hi, dtype });
    const [, l, h] = (a as { int: readonly [readonly number[], number, number] }).int;
    return T.astype(T.floor(T.random.uniform(key, full, { min: l, max: h + 1, dtype: "float64" })), "int32");
  });
};

const names = Object.keys(registry) as PrimitiveName[];

describe("laws.vmap holds for every primitive (values, gradients, jit)", () => {
  it("the table has exactly the registry's primitives", () => {
    expect(Object.keys(table).sort()).toEqual([...names].sort());
  });
  for (const dtype of ["float64", "float32"] as const) {
    describe(dtype, () => {
      names.forEach((name, p) => {
        const row = table[name];
        it(name, () => {
          const n = row.args.length;
          const c = (axis: number | "last", shared?: number) => ({
            f: row.f,
            args: argsOf(row, dtype, p, axis, shared),
            name,
          });
          laws.vmap(c(0));
          laws.vmap(c("last"), { inAxes: -1 });
          if (row.shared !== undefined) {
            const inAxes: AxisSpec = Array.from({ length: n }, (_, i) => (i === row.shared ? null : 0));
            laws.vmap(c(0, row.shared), { inAxes });
          }
        });
      });
    });
  }
});
