/**
 * @file linear and embedding: PyTorch layouts and default initialisation, values against loops,
 * gradients (an embedding's gradient lands only in the rows it read), and their errors.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { embedding, linear, type LinearParams } from "../src/layers.js";
import { checkGradFd, expectClose, nums, randn, rowDot, rows, vec } from "./extra-helpers.js";

describe("linear", () => {
  it("has nn.Linear's layout and default init U(±1/√in), with or without bias", () => {
    const q = linear(6).init(T.random.key(0), 9, { dtype: "float64" });
    expect(q.weight.shape).toEqual([6, 9]);
    expect(q.bias?.shape).toEqual([6]);
    const bound = 1 / 3;
    expect([...nums(q.weight), ...nums(q.bias)].every((v) => Math.abs(v) <= bound)).toBe(true);
    // Spread over the whole range, not a narrower one.
    expect(Math.max(...nums(q.weight).map(Math.abs))).toBeGreaterThan(0.8 * bound);
    const noBias = linear(6, { bias: false }).init(T.random.key(0), 9);
    expect(Object.keys(noBias)).toEqual(["weight"]);
    expect(linear(6).outputSize(q)).toBe(6);
    expect(linear(6).inputSize?.(q)).toBe(9);
  });

  it("uses Glorot or orthogonal weights under options.scheme", () => {
    const g = linear(4).init(T.random.key(1), 12, { scheme: "glorot", dtype: "float64" });
    expect(nums(g.weight).every((v) => Math.abs(v) <= Math.sqrt(6 / 16))).toBe(true);
    expect(Math.max(...nums(g.weight).map(Math.abs))).toBeGreaterThan(1 / Math.sqrt(12));
    const o = linear(3).init(T.random.key(2), 5, { scheme: "orthogonal", dtype: "float64" });
    const w = rows(o.weight);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(rowDot(w, i, w[j]!)).toBeCloseTo(i === j ? 1 : 0, 12);
  });

  test.prop(
    [fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean()],
    { numRuns: 25 },
  )("computes x Wᵀ + b as loops do, and its gradient matches finite differences", (batch, inSize, outSize, bias) => {
    const layer = linear(outSize, { bias });
    const q = layer.init(T.random.key(inSize * 10 + outSize), inSize, { dtype: "float64" });
    const x = randn(batch, [batch, inSize]);
    const y = layer.apply(q)(x);
    expect(y.shape).toEqual([batch, outSize]);
    const w = rows(q.weight);
    const b = q.bias === undefined ? new Array<number>(outSize).fill(0) : vec(q.bias);
    const expected = rows(x).flatMap((xr) => w.map((_, o) => rowDot(w, o, xr) + b[o]!));
    expectClose(nums(y), expected);
    checkGradFd((p: LinearParams) => A.sum(A.square(layer.apply(p)(x))), q);
  });

  it("applies to any [..., in] input", () => {
    const layer = linear(2);
    const q = layer.init(T.random.key(0), 3);
    expect(layer.apply(q)(T.ones([4, 5, 3])).shape).toEqual([4, 5, 2]);
  });

  it("rejects bad sizes and inputs of the wrong width, naming the layer", () => {
    expect(() => linear(0)).toThrow(/linear.*outputSize must be a positive integer/);
    expect(() => linear(2.5)).toThrow(/linear.*outputSize/);
    expect(() => linear(2, { bias: "yes" as never })).toThrow(/linear.*bias must be a boolean/);
    expect(() => linear(2).init(T.random.key(0), 0)).toThrow(/linear\(2\)\.init.*inputSize/);
    const q = linear(2).init(T.random.key(0), 3);
    expect(() => linear(2).apply(q)(T.ones([4, 5]))).toThrow(
      /linear\(2\)\.apply.*end in 3 features.*\[4, 5\], \[2, 3\]/,
    );
  });
});

describe("embedding", () => {
  const embed = embedding(7, 3);

  it("draws a [vocab, dim] weight from N(0, 1), as nn.Embedding", () => {
    const q = embedding(500, 20).init(T.random.key(0), 1, { dtype: "float64" });
    expect(q.weight.shape).toEqual([500, 20]);
    const v = nums(q.weight);
    const m = v.reduce((s, a) => s + a, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / v.length);
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
    expect(embedding(500, 20).outputSize(q)).toBe(20);
    expect(embedding(500, 20).inputSize).toBeUndefined();
  });

  it("maps int32 ids [B] or [B, 1] to the weight's rows [B, dim]", () => {
    const q = embed.init(T.random.key(1), 1, { dtype: "float64" });
    const w = rows(q.weight);
    const y = embed.apply(q)(T.tensor([3, 0, 6, 3], "int32"));
    expect(y.shape).toEqual([4, 3]);
    expect(rows(y)).toEqual([w[3], w[0], w[6], w[3]]);
    expect(rows(embed.apply(q)(T.tensor([[5], [2]], "int32")))).toEqual([w[5], w[2]]);
  });

  it("sends the gradient only to the rows it read, summing repeats", () => {
    const q = embed.init(T.random.key(2), 1, { dtype: "float64" });
    const ids = T.tensor([3, 1, 3], "int32");
    const g = A.grad((p: { weight: A.Value }) => A.sum(embed.apply(p)(ids)))(q);
    expect(rows(g.weight).map((r) => r[0])).toEqual([0, 1, 0, 2, 0, 0, 0]);
    checkGradFd((p: { weight: A.Value }) => A.sum(A.square(embed.apply(p)(ids))), q);
  });

  it("rejects float ids, out-of-vocabulary ids and wrong shapes, naming the layer", () => {
    const q = embed.init(T.random.key(0), 1);
    expect(() => embedding(0, 3)).toThrow(/embedding.*vocabSize/);
    expect(() => embedding(3, -1)).toThrow(/embedding.*dim/);
    expect(() => embed.apply(q)(T.tensor([1, 2]))).toThrow(/embedding\(7, 3\)\.apply.*must be int32, got float32/);
    expect(() => embed.apply(q)(T.tensor([1, 7], "int32"))).toThrow(/ids\[1\] = 7 is outside the vocabulary \[0, 7\)/);
    expect(() => embed.apply(q)(T.tensor([-1], "int32"))).toThrow(/ids\[0\] = -1/);
    expect(() => embed.apply(q)(T.scalar(1, "int32"))).toThrow(/embedding\(7, 3\)\.apply: ids need a batch axis/);
  });

  it("looks up a whole [batch, time] sequence of ids at once", () => {
    const q = embed.init(T.random.key(0), 1);
    const ids = T.tensor(
      [
        [1, 2, 0],
        [6, 6, 3],
      ],
      "int32",
    );
    const rows = embed.apply(q)(ids) as T.Tensor;
    expect(rows.shape).toEqual([2, 3, 3]);
    const w = q.weight;
    expect(Array.from(rows.data.slice(3 * 3, 3 * 3 + 3))).toEqual(Array.from(w.data.slice(6 * 3, 6 * 3 + 3)));
  });
});
