/**
 * @file Purity: no kernel, op or transform writes its inputs, and the same key gives the same bits.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

const snapshot = (ts: readonly T.Tensor[]): number[][] => ts.map((t) => Array.from(t.data));

/** Runs `f` and checks that every input buffer holds exactly what it held before. */
const expectUntouched = (inputs: readonly T.Tensor[], f: () => unknown): void => {
  const before = snapshot(inputs);
  f();
  expect(snapshot(inputs)).toEqual(before);
};

const arbMatrix = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([m, n]) =>
    fc
      .array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: m * n, maxLength: m * n })
      .map((d) => T.fromDataOrThrow(d, [m, n], "float64")),
  );

/** Every tensor kernel applied to a matrix `x` (and `y` = x reversed). */
const kernelCalls = (x: T.Tensor): Array<[string, () => unknown]> => {
  const y = T.flip(x);
  const idx = T.fromDataOrThrow([0, x.shape[0]! - 1], [2], "int32");
  const [m, n] = x.shape as [number, number];
  return [
    ...(
      [
        "neg",
        "abs",
        "sign",
        "exp",
        "expm1",
        "log1p",
        "sqrt",
        "rsqrt",
        "square",
        "reciprocal",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "softplus",
        "relu",
        "floor",
        "ceil",
        "round",
        "isNaN",
        "isFinite",
        "logicalNot",
        "log",
      ] as const
    ).map((name) => [name, () => T[name](x)] as [string, () => unknown]),
    ...(
      [
        "add",
        "sub",
        "mul",
        "div",
        "pow",
        "maximum",
        "minimum",
        "equal",
        "notEqual",
        "less",
        "lessEqual",
        "greater",
        "greaterEqual",
        "logicalAnd",
        "logicalOr",
      ] as const
    ).map((name) => [name, () => (T[name] as (a: T.Tensor, b: T.Tensor) => T.Tensor)(x, y)] as [string, () => unknown]),
    ["where", () => T.where(T.greater(x, 0), x, y)],
    ["sum", () => T.sum(x, { axis: 0 })],
    ["mean", () => T.mean(x)],
    ["prod", () => T.prod(x, { axis: 1, keepDims: true })],
    ["max", () => T.max(x, { axis: -1 })],
    ["min", () => T.min(x)],
    ["argmax", () => T.argmax(x, { axis: 0 })],
    ["argmin", () => T.argmin(x)],
    ["sumTo", () => T.sumTo(x, [1, n])],
    ["logSumExp", () => T.logSumExp(x, { axis: 1 })],
    ["cumsum", () => T.cumsum(x, { axis: 0 })],
    ["cumprod", () => T.cumprod(x, { reverse: true })],
    ["cummax", () => T.cummax(x)],
    ["cummin", () => T.cummin(x, { axis: 0, reverse: true })],
    ["logcumsumexp", () => T.logcumsumexp(x)],
    ["linearScan", () => T.linearScan(x, y, { axis: 0 })],
    ["softmax", () => T.softmax(x)],
    ["logSoftmax", () => T.logSoftmax(x, 0)],
    ["reshape", () => T.reshape(x, [-1])],
    ["transpose", () => T.transpose(x)],
    ["expandDims", () => T.expandDims(x, 0)],
    ["squeeze", () => T.squeeze(T.expandDims(x, 0), 0)],
    ["broadcastTo", () => T.broadcastTo(x, [2, m, n])],
    ["flip", () => T.flip(x, 0)],
    ["slice", () => T.slice(x, [{ step: -1 }, { start: 0, stop: n, step: 2 }])],
    ["concat", () => T.concat([x, y], 1)],
    ["stack", () => T.stack([x, y])],
    ["split", () => T.split(x, [1], 0)],
    [
      "pad",
      () =>
        T.pad(
          x,
          [
            [1, 0],
            [0, 2],
          ],
          5,
        ),
    ],
    ["take", () => T.take(x, idx, 0)],
    ["gather", () => T.gather(x, T.zeros(x.shape, "int32"), 1)],
    ["addAt", () => T.addAt(x, idx, T.ones([2, n], "float64"), 0)],
    ["addAlongAxis", () => T.addAlongAxis(x, T.zeros(x.shape, "int32"), x, 1)],
    ["matmul", () => T.matmul(x, T.transpose(y))],
    ["astype", () => T.astype(x, "float32")],
    ["toString", () => T.toString(x)],
    ["encode", () => T.safetensors.encode({ x })],
  ];
};

describe("purity", () => {
  test.prop([arbMatrix], { numRuns: 20 })("no tensor kernel writes its inputs", (x) => {
    const y = T.flip(x);
    for (const [, call] of kernelCalls(x)) expectUntouched([x, y], call);
  });

  test.prop([arbMatrix], { numRuns: 10 })("grad, jvp and scan leave their inputs unchanged", (x) => {
    const w = T.transpose(x);
    const loss = (a: A.Value, b: A.Value) => A.sum(A.tanh(A.matmul(a, b)));
    expectUntouched([x, w], () => A.grad(loss, { argnums: [0, 1] })(x, w));
    expectUntouched([x, w], () => A.jvp(loss, [x, w], [x, w]));
    expectUntouched([x], () =>
      A.grad((h: A.Value) => A.sum(A.scan((c: A.Value, r: A.Value) => [A.tanh(A.add(c, r)), c] as const, h, x)[1]))(
        T.sum(x, { axis: 0 }),
      ),
    );
  });

  it("fromData copies the caller's array", () => {
    const src = new Float64Array([1, 2, 3]);
    const t = T.fromDataOrThrow(src, [3], "float64");
    src[0] = 99;
    expect(t.data[0]).toBe(1);
  });

  it("the same key gives the same bits, whatever was drawn before", () => {
    const k = T.random.key(7);
    const first = Array.from(T.random.normal(k, [5], "float64").data);
    T.random.uniform(T.random.key(8), [100]);
    expect(Array.from(T.random.normal(k, [5], "float64").data)).toEqual(first);
  });
});
