/**
 * @file The peephole LSTM and the layer-normalised LSTM: parameter shapes and initial values,
 * outputs against plain-loop float64 references written here from the papers' equations,
 * gradients through `rnn` against finite differences, and the errors they raise.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { rnn } from "../src/rnn.js";
import type { Cell } from "../src/Cell.js";
import { lstm, type LstmCarry } from "../src/cells/lstm.js";
import { peepholeLstm, type PeepholeLstmParams } from "../src/cells/peephole.js";
import { layerNorm, layerNormLstm, type LayerNormLstmParams } from "../src/cells/layerNormLstm.js";
import { checkGradFd, expectClose, nums, randn, randomize, rowDot, rows, sig, vec } from "./extra-helpers.js";

const B = 2;
const TIME = 4;
const IN = 3;
const H = 5;
const sizes = { inputSize: IN, hiddenSize: H };

/** xs `[B, T, IN]` as numbers, sample by sample. */
const seqs = (xs: T.Tensor): number[][][] =>
  Array.from({ length: xs.shape[0]! }, (_, b) =>
    Array.from({ length: xs.shape[1]! }, (_, t) =>
      nums(xs).slice((b * xs.shape[1]! + t) * xs.shape[2]!, (b * xs.shape[1]! + t + 1) * xs.shape[2]!),
    ),
  );

/** One sample through a step function over numbers; returns per-step h and the final {h, c}. */
const runRef = (xs: number[][], step: (h: number[], c: number[], x: number[]) => [number[], number[]]) => {
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  const ys: number[][] = [];
  for (const x of xs) {
    [h, c] = step(h, c, x);
    ys.push(h);
  }
  return { ys, h, c };
};

/** Peephole LSTM, Gers & Schmidhuber 2000, written over numbers. */
const peepholeRef = (p: PeepholeLstmParams) => {
  const [wih, whh, bih, bhh] = [rows(p.weight_ih), rows(p.weight_hh), vec(p.bias_ih), vec(p.bias_hh)];
  const [wci, wcf, wco] = [vec(p.weight_ci), vec(p.weight_cf), vec(p.weight_co)];
  return (h: number[], c: number[], x: number[]): [number[], number[]] => {
    const a = Array.from({ length: 4 * H }, (_, r) => rowDot(wih, r, x) + bih[r]! + rowDot(whh, r, h) + bhh[r]!);
    const cNext = c.map(
      (cj, j) => sig(a[H + j]! + wcf[j]! * cj) * cj + sig(a[j]! + wci[j]! * cj) * Math.tanh(a[2 * H + j]!),
    );
    const hNext = cNext.map((cj, j) => sig(a[3 * H + j]! + wco[j]! * cj) * Math.tanh(cj));
    return [hNext, cNext];
  };
};

/** Layer norm over numbers: biased variance, ε = 1e-5. */
const lnRef = (a: readonly number[], gain: readonly number[], shift: readonly number[]): number[] => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  const v = a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length;
  return a.map((x, j) => gain[j]! * ((x - m) / Math.sqrt(v + 1e-5)) + shift[j]!);
};

/** Layer-normalised LSTM, Ba, Kiros & Hinton 2016, written over numbers. */
const lnLstmRef = (p: LayerNormLstmParams) => {
  const [wih, whh] = [rows(p.weight_ih), rows(p.weight_hh)];
  return (h: number[], c: number[], x: number[]): [number[], number[]] => {
    const ax = lnRef(
      Array.from({ length: 4 * H }, (_, r) => rowDot(wih, r, x)),
      vec(p.ln_ih_weight),
      vec(p.ln_ih_bias),
    );
    const ah = lnRef(
      Array.from({ length: 4 * H }, (_, r) => rowDot(whh, r, h)),
      vec(p.ln_hh_weight),
      vec(p.ln_hh_bias),
    );
    const a = ax.map((v, r) => v + ah[r]!);
    const cNext = c.map((cj, j) => sig(a[H + j]!) * cj + sig(a[j]!) * Math.tanh(a[2 * H + j]!));
    const cn = lnRef(cNext, vec(p.ln_c_weight), vec(p.ln_c_bias));
    const hNext = cn.map((v, j) => sig(a[3 * H + j]!) * Math.tanh(v));
    return [hNext, cNext];
  };
};

/** Checks `rnn(cell)` on xs against the reference for every sample: outputs and final carry. */
const againstReference = <P>(cell: Cell<P, LstmCarry>, p: P, ref: ReturnType<typeof peepholeRef>): void => {
  const xs = randn(3, [B, TIME, IN]);
  const { outputs, finalCarry } = rnn(cell, p, xs);
  expect(outputs.shape).toEqual([B, TIME, H]);
  const expected = seqs(xs).map((s) => runRef(s, ref));
  expectClose(
    nums(outputs),
    expected.flatMap((e) => e.ys.flat()),
  );
  expectClose(
    nums(finalCarry.h),
    expected.flatMap((e) => e.h),
  );
  expectClose(
    nums(finalCarry.c),
    expected.flatMap((e) => e.c),
  );
};

describe("peepholeLstm", () => {
  it("has PyTorch's LSTM parameters plus three [H] peephole vectors, in the requested dtype", () => {
    const p = peepholeLstm.init(T.random.key(0), sizes, { dtype: "float64" });
    expect(p.weight_ih.shape).toEqual([4 * H, IN]);
    expect(p.weight_hh.shape).toEqual([4 * H, H]);
    expect(p.bias_ih.shape).toEqual([4 * H]);
    for (const w of [p.weight_ci, p.weight_cf, p.weight_co]) {
      expect(w.shape).toEqual([H]);
      expect(w.dtype).toBe("float64");
      expect(nums(w).every((v) => Math.abs(v) <= 1 / Math.sqrt(H))).toBe(true);
    }
    expect(peepholeLstm.outputSize(p)).toBe(H);
    // The peephole vectors come from their own keys: not copies of one another.
    expect(nums(p.weight_ci)).not.toEqual(nums(p.weight_cf));
  });

  it("matches the Gers & Schmidhuber equations computed by plain loops (float64)", () => {
    const p = randomize(peepholeLstm.init(T.random.key(1), sizes, { dtype: "float64" }), 11);
    againstReference(peepholeLstm, p, peepholeRef(p));
  });

  it("is PyTorch's LSTM when the peephole weights are zero", () => {
    const p = randomize(peepholeLstm.init(T.random.key(1), sizes, { dtype: "float64" }), 12);
    const zero = T.zeros([H], "float64");
    const xs = randn(4, [B, TIME, IN]);
    const a = rnn(peepholeLstm, { ...p, weight_ci: zero, weight_cf: zero, weight_co: zero }, xs);
    const b = rnn(lstm, p, xs);
    expectClose(nums(a.outputs), nums(b.outputs), 1e-15);
    // …and not when they are not (the test can fail).
    expect(nums(rnn(peepholeLstm, p, xs).outputs)).not.toEqual(nums(b.outputs));
  });

  it("gradients through rnn (all parameters and the inputs) match finite differences", () => {
    const p = randomize(peepholeLstm.init(T.random.key(2), sizes, { dtype: "float64" }), 13);
    const xs = randn(5, [B, TIME, IN]);
    const target = randn(6, [B, TIME, H]);
    checkGradFd(
      (q: PeepholeLstmParams) => A.sum(A.mul(rnn(peepholeLstm, q, xs, { lengths: [4, 2] }).outputs, target)),
      p,
    );
    checkGradFd((x: A.Value) => A.sum(A.square(rnn(peepholeLstm, p, x).outputs)), xs);
  });

  it("names itself when x_t has the wrong width", () => {
    const p = peepholeLstm.init(T.random.key(0), sizes);
    expect(() => peepholeLstm.step(p)(peepholeLstm.initialCarry(2, p), T.zeros([2, IN + 1]))).toThrow(
      /peepholeLstm\.step.*x_t must be \[batch, 3\]/,
    );
    expect(() => peepholeLstm.init(T.random.key(0), { inputSize: 0, hiddenSize: 2 })).toThrow(
      /peepholeLstm\.init.*inputSize/,
    );
  });
});

describe("layerNormLstm", () => {
  it("has weight_ih/weight_hh and LayerNorm gains (ones) and shifts (zeros), no LSTM biases", () => {
    const p = layerNormLstm.init(T.random.key(0), sizes, { dtype: "float64", scheme: "orthogonal" });
    expect(Object.keys(p).sort()).toEqual([
      "ln_c_bias",
      "ln_c_weight",
      "ln_hh_bias",
      "ln_hh_weight",
      "ln_ih_bias",
      "ln_ih_weight",
      "weight_hh",
      "weight_ih",
    ]);
    expect(p.weight_ih.shape).toEqual([4 * H, IN]);
    expect(p.weight_hh.shape).toEqual([4 * H, H]);
    expect(nums(p.ln_ih_weight)).toEqual(new Array(4 * H).fill(1));
    expect(nums(p.ln_hh_bias)).toEqual(new Array(4 * H).fill(0));
    expect(p.ln_c_weight.shape).toEqual([H]);
    expect(p.ln_c_bias.dtype).toBe("float64");
  });

  it("matches the Ba, Kiros & Hinton equations computed by plain loops (float64, random gains)", () => {
    const p = randomize(layerNormLstm.init(T.random.key(1), sizes, { dtype: "float64" }), 21, 0.8);
    againstReference(layerNormLstm, p, lnLstmRef(p));
  });

  it("carries the un-normalised cell state (the paper's form)", () => {
    const p = randomize(layerNormLstm.init(T.random.key(1), sizes, { dtype: "float64" }), 22, 0.8);
    const carry = layerNormLstm.initialCarry(1, p);
    const x = randn(1, [1, IN]);
    const [next] = layerNormLstm.step(p)(carry, x);
    const [, cRef] = lnLstmRef(p)(new Array<number>(H).fill(0), new Array<number>(H).fill(0), nums(x));
    expectClose(nums(next.c), cRef);
  });

  it("gradients through rnn (weights, gains, shifts and inputs) match finite differences", () => {
    const p = randomize(layerNormLstm.init(T.random.key(2), sizes, { dtype: "float64" }), 23, 0.8);
    const xs = randn(8, [B, TIME, IN]);
    const target = randn(9, [B, TIME, H]);
    checkGradFd(
      (q: LayerNormLstmParams) => A.sum(A.mul(rnn(layerNormLstm, q, xs, { reverse: true }).outputs, target)),
      p,
    );
    checkGradFd((x: A.Value) => A.sum(A.mul(rnn(layerNormLstm, p, x).outputs, target)), xs);
  });

  it("names itself when x_t has the wrong width", () => {
    const p = layerNormLstm.init(T.random.key(0), sizes);
    expect(() => layerNormLstm.step(p)(layerNormLstm.initialCarry(2, p), T.zeros([2, 7]))).toThrow(
      /layerNormLstm\.step/,
    );
  });
});

describe("layerNorm", () => {
  test.prop([fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 2, maxLength: 12 })], {
    numRuns: 50,
  })("with unit gain and zero shift, each row has mean 0 and variance var/(var + ε)", (row) => {
    const x = T.tensor([row], "float64");
    const y = nums(layerNorm(x, T.ones([row.length], "float64"), T.zeros([row.length], "float64")));
    const m = row.reduce((s, v) => s + v, 0) / row.length;
    const v = row.reduce((s, a) => s + (a - m) ** 2, 0) / row.length;
    const my = y.reduce((s, a) => s + a, 0) / y.length;
    const vy = y.reduce((s, a) => s + (a - my) ** 2, 0) / y.length;
    expect(Math.abs(my)).toBeLessThan(1e-9);
    expect(Math.abs(vy - v / (v + 1e-5))).toBeLessThan(1e-9);
  });

  it("applies gain and shift per feature", () => {
    const y = layerNorm(
      T.tensor([[1, 2, 3]], "float64"),
      T.tensor([1, 2, 3], "float64"),
      T.tensor([0, 1, -1], "float64"),
    );
    const z = 1 / Math.sqrt(2 / 3 + 1e-5); // centred row [-1, 0, 1], biased variance 2/3
    expectClose(nums(y), [-z, 1, 3 * z - 1], 1e-12);
  });
});
