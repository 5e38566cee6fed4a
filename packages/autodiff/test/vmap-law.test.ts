/**
 * @file The vmap law for every primitive, through a table typed by `PrimitiveName` (a primitive
 * added without an entry does not compile): `vmap(f)` of stacked examples equals stacking `f`
 * over them, bit for bit, in float32 and float64, eager and under jit. Entries for primitives
 * that still batch by looping (`batchByLoop`) are tested all the same.
 */
import { describe, expect, it } from "vitest";
import * as A from "../src/index.js";
import { batchByLoop, registry, type PrimitiveName, type Value } from "../src/index.js";
import { checkVmapLaw, floats, ints, type FloatDType, type LawSpec, type Rng } from "./vmapLaw.js";

const one =
  (shape: readonly number[], lo = -2, hi = 2) =>
  (rng: Rng, dt: FloatDType) => [floats(rng, shape, dt, lo, hi)];
const two = (rng: Rng, dt: FloatDType) => [floats(rng, [2, 3], dt), floats(rng, [2, 3], dt)];
const unary = (f: (x: Value) => Value, lo = -2, hi = 2): LawSpec => ({ args: one([2, 3], lo, hi), f });
/** One key's data: two random words as int32 [2]. */
const key = (rng: Rng) => ints(rng, [2], -2147483648, 2147483647);
const binary = (f: (a: Value, b: Value) => Value): LawSpec => ({ args: two, f, shared: [0, 1] });

const specs: { readonly [K in PrimitiveName]: LawSpec } = {
  neg: unary(A.neg),
  abs: unary(A.abs),
  exp: unary(A.exp),
  expm1: unary(A.expm1),
  log: unary(A.log, 0.125, 3),
  log1p: unary(A.log1p, 0, 3),
  sqrt: unary(A.sqrt, 0, 3),
  sin: unary(A.sin),
  cos: unary(A.cos),
  tanh: unary(A.tanh),
  logistic: unary(A.sigmoid),
  softplus: unary(A.softplus),
  sign: unary(A.sign),
  floor: unary(A.floor),
  ceil: unary(A.ceil),
  round: unary(A.round),
  isNaN: unary((x) => A.isNaN(A.div(x, x))),
  isFinite: unary((x) => A.isFinite(A.div(1, x))),
  logicalNot: unary(A.logicalNot),
  add: binary(A.add),
  sub: binary(A.sub),
  mul: binary(A.mul),
  div: binary(A.div),
  pow: { args: (rng, dt) => [floats(rng, [2, 3], dt, 0.125, 2), floats(rng, [2, 3], dt)], f: A.pow, shared: [0, 1] },
  maximum: binary(A.maximum),
  minimum: binary(A.minimum),
  equal: binary(A.equal),
  notEqual: binary(A.notEqual),
  less: binary(A.less),
  lessEqual: binary(A.lessEqual),
  greater: binary(A.greater),
  greaterEqual: binary(A.greaterEqual),
  logicalAnd: binary((a, b) => A.logicalAnd(A.round(a), A.round(b))),
  logicalOr: binary((a, b) => A.logicalOr(A.round(a), A.round(b))),
  select: {
    args: (rng, dt) => [floats(rng, [2, 3], dt), floats(rng, [2, 3], dt), floats(rng, [2, 3], dt)],
    f: (c, a, b) => A.where(A.greater(c, 0), a, b),
    shared: [0, 1, 2],
  },
  sum: { args: one([2, 3, 4]), f: (x) => [A.sum(x, { axis: 1 }), A.sum(x), A.sum(x, { axis: [0, 2] })] },
  reduceMax: { args: one([2, 3, 4]), f: (x) => [A.max(x, { axis: 0 }), A.max(x, { axis: [1, 2] })] },
  reduceMin: { args: one([2, 3, 4]), f: (x) => [A.min(x, { axis: 2 }), A.min(x)] },
  prod: { args: one([2, 3, 4]), f: (x) => [A.prod(x, { axis: 1 }), A.prod(x, { axis: [0, 2] })] },
  argmax: { args: one([2, 3, 4]), f: (x) => [A.argmax(x, { axis: 0 }), A.argmax(x, { axis: 2 })] },
  argmin: { args: one([2, 3, 4]), f: (x) => [A.argmin(x, { axis: 1 }), A.argmin(x, { axis: 2 })] },
  cumsum: { args: one([2, 3, 4]), f: (x) => [A.cumsum(x, { axis: 0 }), A.cumsum(x, { axis: 1, reverse: true })] },
  cumprod: { args: one([2, 3, 4]), f: (x) => [A.cumprod(x, { axis: 2 }), A.cumprod(x, { axis: 0, reverse: true })] },
  cummax: {
    args: one([2, 3, 4]),
    f: (x) => [A.cummax(x, { axis: 1 }), A.cummax(A.round(x), { axis: 2, reverse: true })],
  },
  cummin: {
    args: one([2, 3, 4]),
    f: (x) => [A.cummin(x, { axis: 0 }), A.cummin(A.round(x), { axis: 2, reverse: true })],
  },
  linearScan: {
    args: (rng, dt) => [floats(rng, [2, 3, 4], dt), floats(rng, [2, 3, 4], dt)],
    f: (a, b) => [A.linearScan(a, b, { axis: 1 }), A.linearScan(a, b, { axis: 0, reverse: true })],
    shared: [0, 1],
  },
  logcumsumexp: {
    args: one([2, 3, 4]),
    f: (x) => [A.logcumsumexp(x, { axis: 1 }), A.logcumsumexp(x, { axis: 2, reverse: true })],
  },
  broadcastTo: { args: one([1, 3]), f: (x) => [A.broadcastTo(x, [2, 2, 3]), A.broadcastTo(x, [4, 3])] },
  reshape: { args: one([2, 3, 2]), f: (x) => [A.reshape(x, [3, 4]), A.reshape(x, [12])] },
  transpose: { args: one([2, 3, 4]), f: (x) => [A.transpose(x, [2, 0, 1]), A.transpose(x, [1, 0, 2])] },
  slice: {
    args: one([3, 4]),
    f: (x) => A.sliceWindow(x, { start: [2, 0], step: [-1, 2], size: [2, 2] }),
  },
  unslice: {
    args: one([2, 2]),
    f: (x) => A.unslice(x, [3, 4], { start: [0, 1], step: [2, 1], size: [2, 2] }),
  },
  flip: { args: one([2, 3]), f: (x) => [A.flip(x, 1), A.flip(x, [0, 1])] },
  pad: {
    args: one([2, 3]),
    f: (x) =>
      A.pad(
        x,
        [
          [1, 0],
          [0, 2],
        ],
        0.5,
      ),
  },
  concat: {
    args: (rng, dt) => [floats(rng, [2, 3], dt), floats(rng, [2, 1], dt)],
    f: (a, b) => [A.concat([a, b], 1), A.concat([b, a, b], -1)],
    shared: [0, 1],
  },
  convert: unary((x) => A.astype(A.mul(x, 3), "int32")),
  take: {
    // negative indices count from the end, per example
    args: (rng, dt) => [floats(rng, [3, 3], dt), ints(rng, [2, 2], -3, 2)],
    f: (x, i) => [A.take(x, i, 0), A.take(x, i, 1)],
    shared: [0, 1],
  },
  addAt: {
    // repeated indices accumulate
    args: (rng, dt) => [floats(rng, [3, 4], dt), ints(rng, [3], 0, 3), floats(rng, [3, 3], dt)],
    f: (x, i, v) => A.addAt(x, i, v, 1),
    shared: [0, 1, 2],
  },
  gather: {
    args: (rng, dt) => [floats(rng, [3, 4], dt), ints(rng, [3, 2], 0, 3)],
    f: (x, i) => A.gather(x, i, 1),
    shared: [0, 1],
  },
  addAlongAxis: {
    args: (rng, dt) => [floats(rng, [3, 4], dt), ints(rng, [3, 2], 0, 3), floats(rng, [3, 2], dt)],
    f: (x, i, v) => A.addAlongAxis(x, i, v, 1),
    shared: [0, 1, 2],
  },
  matmul: {
    args: (rng, dt) => [
      floats(rng, [2, 3], dt),
      floats(rng, [3, 4], dt),
      floats(rng, [5, 2, 3], dt),
      floats(rng, [5, 3, 2], dt),
    ],
    f: (a, b, c, d) => [A.matmul(a, b), A.matmul(c, d)],
    shared: [0, 1, 2, 3],
  },
  stopGradient: unary(A.stopGradient),
  remat: unary((x) => A.remat((y: Value) => A.tanh(A.mul(y, y)))(x)),
  customVjp: unary((x) =>
    A.customVjp(
      (y: Value) => A.mul(A.sin(y), 2),
      (y: Value) => [A.mul(A.sin(y), 2), y] as const,
      (y: Value, g: Value) => [A.mul(g, A.mul(A.cos(y), 2))],
    )(x),
  ),
  scan: {
    args: (rng, dt) => [floats(rng, [3], dt), floats(rng, [4, 3], dt)],
    f: (c0, xs) => A.scan((c: Value, x: Value) => [A.add(A.mul(c, 0.5), x), A.tanh(c)], c0, xs),
    shared: [0, 1],
  },
  // Keys are int32 data [2]: each example draws from its own key; a shared key (inAxes null)
  // gives every example the same sample, as in JAX.
  randomSample: {
    args: (rng, dt) => [key(rng), floats(rng, [2, 3], dt)],
    f: (k, x) => [
      A.add(x, A.random.normal(k, x.shape, x.dtype)),
      A.random.uniform(k, [4], { min: -1, max: 2, dtype: x.dtype }),
      A.random.bits(k, [3]),
      A.random.bernoulli(k, 0.3, [5]),
    ],
    shared: [0, 1],
  },
  keySplit: { args: (rng) => [key(rng)], f: (k) => [A.random.split(k, 3), A.random.split(k)] },
  keyFoldIn: {
    args: (rng) => [key(rng), ints(rng, [], -9, 9)],
    f: (k, d) => [A.random.foldIn(k, d), A.random.foldIn(k, 7)],
    shared: [0, 1],
  },
};

const names = Object.keys(registry) as PrimitiveName[];

describe("the vmap law, every primitive", () => {
  it("the table has exactly the registry's primitives", () => {
    expect(Object.keys(specs).sort()).toEqual([...names].sort());
  });

  for (const dtype of ["float64", "float32"] as const) {
    for (const mode of ["eager", "jit"] as const) {
      describe(`${dtype}, ${mode}`, () => {
        for (const name of names) {
          const how = registry[name].batch === batchByLoop ? "loop fallback" : "rule";
          it(`${name} (${how})`, () => checkVmapLaw(specs[name], dtype, mode));
        }
      });
    }
  }
});
