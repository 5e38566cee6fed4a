/**
 * @file The init helpers of issue 18: `scheme: "identity"` (IRNN, Le, Jaitly & Hinton 2015) and
 * `forgetBias` for cells with a forget gate. Before, neither option existed: an IRNN or a forget
 * bias of 1 meant editing PyTorch's two bias vectors by hand in a `Float32Array`, and mgu ignored
 * `scheme` altogether (every weight was PyTorch's default whatever the scheme asked).
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import {
  elmanRelu,
  elmanTanh,
  gateWeight,
  gru,
  layerNormLstm,
  linear,
  lstm,
  mgu,
  minGru,
  minLstm,
  peepholeLstm,
  rnn,
  torchRnn,
} from "@rewind/rnn";
import { expectClose, nums, refusal } from "./extra-helpers.js";

const key = T.random.key(18);
const sizes = { inputSize: 3, hiddenSize: 4 };
const H = sizes.hiddenSize;

/** `gates` stacked H×H identity matrices, row-major. */
const stackedIdentity = (gates: number): number[] =>
  Array.from({ length: gates * H * H }, (_, i) => (Math.floor(i / H) % H === i % H ? 1 : 0));

/** The entries of `v` in gate block `block` (of H entries) and the entries outside it. */
const block = (v: unknown, b: number): { inside: number[]; outside: number[] } => {
  const all = nums(v);
  return {
    inside: all.slice(b * H, (b + 1) * H),
    outside: [...all.slice(0, b * H), ...all.slice((b + 1) * H)],
  };
};

describe('scheme: "identity"', () => {
  it("elmanRelu (IRNN): weight_hh = I, zero biases, weight_ih as the default draws it", () => {
    const p = elmanRelu.init(key, sizes, { scheme: "identity" });
    expect(nums(p.weight_hh)).toEqual(stackedIdentity(1));
    expect(nums(p.bias_ih)).toEqual([0, 0, 0, 0]);
    expect(nums(p.bias_hh)).toEqual([0, 0, 0, 0]);
    expect(nums(p.weight_ih)).toEqual(nums(elmanRelu.init(key, sizes).weight_ih));
  });
  it("IRNN's point: with no input a non-negative state is carried unchanged through 50 steps", () => {
    const p = elmanRelu.init(key, sizes, { scheme: "identity", dtype: "float64" });
    const h0 = T.tensor([[0.5, 0, 2, 1.25]], "float64");
    const { outputs } = rnn(elmanRelu, p, T.zeros([1, 50, 3], "float64"), { initialCarry: h0 });
    expect(nums(outputs)).toEqual(Array.from({ length: 50 }, () => nums(h0)).flat());
  });
  it("gated cells get the identity in every recurrent gate block", () => {
    expect(nums(lstm.init(key, sizes, { scheme: "identity" }).weight_hh)).toEqual(stackedIdentity(4));
    expect(nums(gru.init(key, sizes, { scheme: "identity" }).weight_hh)).toEqual(stackedIdentity(3));
    expect(nums(peepholeLstm.init(key, sizes, { scheme: "identity" }).weight_hh)).toEqual(stackedIdentity(4));
    expect(nums(layerNormLstm.init(key, sizes, { scheme: "identity" }).weight_hh)).toEqual(stackedIdentity(4));
    const m = mgu.init(key, sizes, { scheme: "identity" });
    expect([nums(m.weight_hf), nums(m.weight_hn)]).toEqual([stackedIdentity(1), stackedIdentity(1)]);
    expect([...nums(m.bias_f), ...nums(m.bias_n)]).toEqual(Array(8).fill(0));
  });
  it("torchRnn passes it to every layer and direction, in float64 too", () => {
    const layer = torchRnn({ mode: "rnn_relu", inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const params = layer.init(key, { scheme: "identity", dtype: "float64" });
    for (const p of params) {
      expect(p.weight_hh.dtype).toBe("float64");
      expect(nums(p.weight_hh)).toEqual(stackedIdentity(1));
    }
  });
  it("cells and layers without a square recurrent weight refuse it, naming the option and a fix", () => {
    for (const [init, op] of [
      [() => minGru.init(key, sizes, { scheme: "identity" }), "minGru.init"],
      [() => minLstm.init(key, sizes, { scheme: "identity" }), "minLstm.init"],
      [() => linear(4).init(key, 3, { scheme: "identity" }), "linear(4).init"],
    ] as const) {
      const e = refusal(init);
      expect(e.error).toMatchObject({ _tag: "ValueError", op, arg: "options.scheme" });
      expect(e.message).toMatch(/scheme "identity" sets square recurrent weights to the identity, and this has none/);
    }
  });
  it("gateWeight refuses a non-square identity block", () => {
    const e = refusal(() => gateWeight(key, 4, 4, 3, { scheme: "identity" }));
    expect(e.message).toMatch(/^gateWeight: scheme "identity" needs square blocks, got 4 rows per gate and fanIn 3/);
  });
});

describe("forgetBias", () => {
  it("lstm: bias_ih's forget block is forgetBias and bias_hh's is 0 (sum = forgetBias); the rest as drawn", () => {
    const plain = lstm.init(key, sizes);
    const p = lstm.init(key, sizes, { forgetBias: 1 });
    expect(block(p.bias_ih, 1).inside).toEqual([1, 1, 1, 1]);
    expect(block(p.bias_hh, 1).inside).toEqual([0, 0, 0, 0]);
    expect(block(p.bias_ih, 1).outside).toEqual(block(plain.bias_ih, 1).outside);
    expect(block(p.bias_hh, 1).outside).toEqual(block(plain.bias_hh, 1).outside);
    expect(nums(p.weight_ih)).toEqual(nums(plain.weight_ih));
  });
  it("the forget block is the gate the step reads as f: a large forgetBias keeps c from step to step", () => {
    // With f = σ(20) ≈ 1 and the input gate shut (its biases at −20, weights zero), c_t = c_{t−1}.
    const base = lstm.init(key, sizes, { forgetBias: 20, dtype: "float64" });
    const zero = T.zeros([4 * H, 3], "float64");
    const shut = T.fromDataOrThrow(
      nums(base.bias_ih).map((b, i) => (i < H ? -20 : b)),
      [4 * H],
      "float64",
    );
    const p = { ...base, weight_ih: zero, weight_hh: T.zeros([4 * H, H], "float64"), bias_ih: shut };
    const c0 = T.tensor([[1, -2, 3, 0.5]], "float64");
    const { finalCarry } = rnn(lstm, p, T.zeros([1, 30, 3], "float64"), {
      initialCarry: { h: T.zeros([1, H], "float64"), c: c0 },
    });
    expectClose(nums(finalCarry.c), nums(c0), 1e-6);
  });
  it("peepholeLstm, layerNormLstm (its ln_ih_bias), mgu (bias_f), minLstm (block f of f, i, h̃)", () => {
    expect(block(peepholeLstm.init(key, sizes, { forgetBias: 2 }).bias_ih, 1).inside).toEqual([2, 2, 2, 2]);
    const ln = layerNormLstm.init(key, sizes, { forgetBias: 2 });
    expect(block(ln.ln_ih_bias, 1).inside).toEqual([2, 2, 2, 2]);
    expect(block(ln.ln_ih_bias, 1).outside).toEqual(Array(12).fill(0));
    expect(nums(mgu.init(key, sizes, { forgetBias: 2 }).bias_f)).toEqual([2, 2, 2, 2]);
    const m = minLstm.init(key, sizes, { forgetBias: 2 });
    expect(block(m.bias, 0).inside).toEqual([2, 2, 2, 2]);
    expect(block(m.bias, 0).outside).toEqual(block(minLstm.init(key, sizes).bias, 0).outside);
  });
  it("torchRnn lstm takes it; the other modes refuse it", () => {
    const layer = torchRnn({ mode: "lstm", inputSize: 3, hiddenSize: 4, numLayers: 2 });
    for (const p of layer.init(key, { forgetBias: 1 })) expect(block(p.bias_ih, 1).inside).toEqual([1, 1, 1, 1]);
    const e = refusal(() => torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 }).init(key, { forgetBias: 1 }));
    expect(e.error).toMatchObject({ op: "torchRnn.init", arg: "options.forgetBias" });
  });
  it("cells without a forget gate, and values that are not finite numbers, are refused", () => {
    for (const [init, op] of [
      [() => gru.init(key, sizes, { forgetBias: 1 }), "gru.init"],
      [() => elmanTanh.init(key, sizes, { forgetBias: 1 }), "elmanTanh.init"],
      [() => minGru.init(key, sizes, { forgetBias: 1 }), "minGru.init"],
    ] as const) {
      const e = refusal(init);
      expect(e.error).toMatchObject({ _tag: "ValueError", op, arg: "options.forgetBias" });
      expect(e.message).toMatch(/this has no forget gate.*use a cell with a forget gate \(lstm,/);
    }
    for (const v of [Number.NaN, Infinity, "1"]) {
      const e = refusal(() => lstm.init(key, sizes, { forgetBias: v as number }));
      expect(e.message).toMatch(/^lstm\.init: forgetBias must be a finite number, got/);
    }
  });
});

describe("mgu honours scheme (before, it drew every weight with the default whatever the scheme)", () => {
  it("orthogonal: each recurrent matrix has orthonormal rows", () => {
    const p = mgu.init(key, sizes, { scheme: "orthogonal", dtype: "float64" });
    const w = nums(p.weight_hf);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < H; j++) {
        const dot = w.slice(i * H, i * H + H).reduce((s, x, k) => s + x * w[j * H + k]!, 0);
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
  });
  it("the default scheme still draws what it drew before (uniform ±1/√H from the same keys)", () => {
    const [k1] = T.random.split(key, 6) as [T.Key];
    const bound = 1 / Math.sqrt(H);
    const expected = T.random.uniform(k1, [H, 3], { min: -bound, max: bound });
    expect(nums(mgu.init(key, sizes).weight_if)).toEqual(nums(expected));
  });
});
