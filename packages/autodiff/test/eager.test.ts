/**
 * @file Eager ops (no transform active) compute with the @rewind/tensor kernels, bit for bit; plain
 * numbers are weakly typed; mixed dtypes promote through explicit `convert` equations.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

/** Same dtype, shape and bits (NaN equal to NaN, −0 distinct from +0). */
const expectSameTensor = (actual: Value, expected: T.Tensor): void => {
  const a = actual as T.Tensor;
  expect(T.isTensor(a)).toBe(true);
  expect(a.dtype).toBe(expected.dtype);
  expect(a.shape).toEqual(expected.shape);
  a.data.forEach((x, i) => expect(Object.is(x, expected.data[i])).toBe(true));
};

const x32 = T.tensor([
  [0.5, -1.25, 2],
  [3, -0.75, 1.5],
]);
const pos = T.tensor(
  [
    [0.5, 1.25, 2],
    [3, 0.75, 1.5],
  ],
  "float64",
);
const y32 = T.tensor([1.5, -2, 0.25]);
const idx = T.tensor([2, 0, -1, 0], "int32");

describe("eager ops equal the tensor kernels", () => {
  const unary: ReadonlyArray<readonly [string, (x: Value) => Value, (x: T.Tensor) => T.Tensor]> = [
    ["neg", A.neg, T.neg],
    ["abs", A.abs, T.abs],
    ["sign", A.sign, T.sign],
    ["exp", A.exp, T.exp],
    ["expm1", A.expm1, T.expm1],
    ["sin", A.sin, T.sin],
    ["cos", A.cos, T.cos],
    ["tanh", A.tanh, T.tanh],
    ["sigmoid", A.sigmoid, T.sigmoid],
    ["softplus", A.softplus, T.softplus],
    ["floor", A.floor, T.floor],
    ["ceil", A.ceil, T.ceil],
    ["round", A.round, T.round],
    ["isFinite", A.isFinite, T.isFinite],
  ];
  for (const [name, op, kernel] of unary) {
    it(name, () => expectSameTensor(op(x32), kernel(x32)));
  }

  it("log, log1p, sqrt on positives", () => {
    expectSameTensor(A.log(pos), T.log(pos));
    expectSameTensor(A.log1p(pos), T.log1p(pos));
    expectSameTensor(A.sqrt(pos), T.sqrt(pos));
  });

  it("binary ops with broadcasting", () => {
    const ops = [
      [A.add, T.add],
      [A.sub, T.sub],
      [A.mul, T.mul],
      [A.div, T.div],
      [A.maximum, T.maximum],
      [A.minimum, T.minimum],
      [A.less, T.less],
      [A.equal, T.equal],
    ] as const;
    for (const [op, kernel] of ops) expectSameTensor(op(x32, y32), kernel(x32, y32));
    expectSameTensor(A.pow(pos, T.tensor([2, 0.5, -1], "float64")), T.pow(pos, T.tensor([2, 0.5, -1], "float64")));
    expectSameTensor(A.where(A.greater(x32, 0), x32, y32), T.where(T.greater(x32, 0), x32, y32));
  });

  it("reductions", () => {
    expectSameTensor(A.sum(x32, { axis: 0 }), T.sum(x32, { axis: 0 }));
    expectSameTensor(A.sum(x32, { axis: -1, keepDims: true }), T.sum(x32, { axis: -1, keepDims: true }));
    expectSameTensor(A.mean(x32), T.mean(x32));
    expectSameTensor(A.max(x32, { axis: 1 }), T.max(x32, { axis: 1 }));
    expectSameTensor(A.min(x32), T.min(x32));
    expectSameTensor(A.prod(x32, { axis: 0 }), T.prod(x32, { axis: 0 }));
    expectSameTensor(A.argmax(x32, { axis: 1 }), T.argmax(x32, { axis: 1 }));
    expectSameTensor(A.argmin(x32), T.argmin(x32));
  });

  it("cumulative ops", () => {
    expectSameTensor(A.cumsum(x32, { axis: 0 }), T.cumsum(x32, { axis: 0 }));
    expectSameTensor(A.cumprod(x32, { reverse: true }), T.cumprod(x32, { reverse: true }));
    expectSameTensor(A.cummax(x32), T.cummax(x32));
    expectSameTensor(A.cummin(x32, { axis: 0, reverse: true }), T.cummin(x32, { axis: 0, reverse: true }));
    expectSameTensor(A.logcumsumexp(x32, { axis: 1 }), T.logcumsumexp(x32, { axis: 1 }));
    expectSameTensor(A.linearScan(x32, x32, { reverse: true }), T.linearScan(x32, x32, { reverse: true }));
  });

  it("shape ops", () => {
    expectSameTensor(A.reshape(x32, [3, -1]), T.reshape(x32, [3, -1]));
    expectSameTensor(A.transpose(x32), T.transpose(x32));
    expectSameTensor(A.broadcastTo(y32, [4, 3]), T.broadcastTo(y32, [4, 3]));
    expectSameTensor(
      A.slice(x32, [{ step: -1 }, { start: -1, stop: 0, step: -2 }]),
      T.slice(x32, [{ step: -1 }, { start: -1, stop: 0, step: -2 }]),
    );
    expectSameTensor(A.flip(x32, 1), T.flip(x32, 1));
    expectSameTensor(
      A.pad(
        x32,
        [
          [1, 0],
          [0, 2],
        ],
        7,
      ),
      T.pad(
        x32,
        [
          [1, 0],
          [0, 2],
        ],
        7,
      ),
    );
    expectSameTensor(A.concat([x32, x32], 1), T.concat([x32, x32], 1));
    expectSameTensor(A.stack([y32, y32], 1), T.stack([y32, y32], 1));
    expectSameTensor(A.expandDims(y32, 0), T.expandDims(y32, 0));
    expectSameTensor(A.squeeze(T.zeros([1, 3, 1])), T.squeeze(T.zeros([1, 3, 1])));
    A.split(x32, [1], 1).forEach((p, i) => expectSameTensor(p, T.split(x32, [1], 1)[i]!));
    expectSameTensor(A.sumTo(x32, [1, 3]), T.sumTo(x32, [1, 3]));
  });

  it("indexing and matmul", () => {
    expectSameTensor(A.take(x32, idx, 1), T.take(x32, idx, 1));
    expectSameTensor(A.take(x32, [5, 0]), T.take(x32, [5, 0]));
    const gi = T.tensor([[1], [2]], "int32");
    expectSameTensor(A.gather(x32, gi, 1), T.gather(x32, gi, 1));
    expectSameTensor(A.addAt(x32, [0, 0], T.ones([2, 3]), 0), T.addAt(x32, [0, 0], T.ones([2, 3]), 0));
    expectSameTensor(A.addAlongAxis(x32, gi, T.ones([2, 1]), 1), T.addAlongAxis(x32, gi, T.ones([2, 1]), 1));
    expectSameTensor(A.oneHot(T.tensor([1, 0, 2], "int32"), 3), T.oneHot(T.tensor([1, 0, 2], "int32"), 3));
    const batch = T.random.normal(T.random.key(0), [2, 1, 3, 2]);
    expectSameTensor(A.matmul(batch, x32), T.matmul(batch, x32));
    expectSameTensor(A.matmul(y32, T.transpose(x32)), T.matmul(y32, T.transpose(x32)));
  });

  it("stable composites agree with the fused kernels to rounding", () => {
    for (const [ours, kernel] of [
      [A.logSumExp(x32, { axis: 1 }), T.logSumExp(x32, { axis: 1 })],
      [A.softmax(x32), T.softmax(x32)],
      [A.logSoftmax(x32, 0), T.logSoftmax(x32, 0)],
    ] as const) {
      const a = ours as T.Tensor;
      expect(a.dtype).toBe(kernel.dtype);
      a.data.forEach((v, i) => expect(v).toBeCloseTo(kernel.data[i]!, 6));
    }
  });
});

describe("weak typing and explicit promotion", () => {
  const i32 = T.tensor([1, 2, 3], "int32");
  const f32 = T.tensor([1, 2, 3]);

  it("a plain number takes the tensor's dtype when it fits", () => {
    expectSameTensor(A.add(i32, 1), T.tensor([2, 3, 4], "int32"));
    expectSameTensor(A.add(f32, 0.5), T.tensor([1.5, 2.5, 3.5]));
    expectSameTensor(A.mul(2, T.tensor([1.5], "float64")), T.tensor([3], "float64"));
    expectSameTensor(A.sub(1, T.tensor([true, false], "bool")), T.tensor([0, 1], "int32"));
  });

  it("a fractional number lifts ints to float32, and division of ints is float32", () => {
    expectSameTensor(A.add(i32, 0.5), T.tensor([1.5, 2.5, 3.5]));
    expectSameTensor(A.div(i32, T.tensor([2, 4, 3], "int32")), T.tensor([0.5, 0.5, 1]));
  });

  it("mixed tensor dtypes promote along bool < int32 < float32 < float64", () => {
    expect(A.add(i32, f32).dtype).toBe("float32");
    expect(A.add(f32, T.tensor([1, 1, 1], "float64")).dtype).toBe("float64");
    expect(A.where(T.tensor([true, false], "bool"), 1, 2).dtype).toBe("float32");
    expect(A.exp(i32).dtype).toBe("float32");
  });

  it("promotion is an explicit convert equation in the traced graph, never inside a primitive", () => {
    const text = A.printGraph(A.makeGraph((a: Value, b: Value) => A.add(a, b))(i32, T.tensor([0.5], "float64")));
    expect(text).toContain('convert[dtype="float64"] a');
    expect(text).toContain("broadcastTo[shape=[3]] b");
    expect(text).toMatch(/= add \w+ \w+\n/);
  });

  it("ops reject non-tensor arguments naming the op and argument", () => {
    expect(() => A.exp([1, 2] as unknown as Value)).toThrow(
      /exp: expected a tensor or traced value, got an array \(argument `x`\)/,
    );
  });
});

describe("bool arithmetic", () => {
  it("computes in int32, and the traced aval says so", () => {
    const t = T.tensor([true, false, true]);
    const eager = A.add(t, t) as T.Tensor;
    expect(eager.dtype).toBe("int32");
    expect(Array.from(eager.data)).toEqual([2, 0, 2]);
    const g = A.makeGraph((x: A.Value) => A.add(x, x))(t);
    expect(g.graph.outAvals[0]!.dtype).toBe("int32");
  });
});
