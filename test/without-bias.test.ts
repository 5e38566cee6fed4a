/**
 * @file The built-in PyTorch-layout cells without biases (PyTorch's `bias=False`): `withoutBias`
 * gives parameters with no bias fields at all, the step equals an independent float64 reference
 * written here in plain JavaScript (GRU's n-gate without b_in and b_hn included), the gradients
 * obey the laws (`cellLaws`), and a record with one bias but not the other is refused by name.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { grad, sum, type Value } from "@rewind/autodiff";
import {
  elmanRelu,
  elmanTanh,
  gru,
  lstm,
  mgu,
  peepholeLstm,
  rnn,
  withoutBias,
  type AnyCell,
  type LstmCarry,
  type TorchCellParams,
} from "@rewind/rnn";
import { cellLaws } from "@rewind/testing";

const key = T.random.key(3);
const sizes = { inputSize: 3, hiddenSize: 4 };
const H = sizes.hiddenSize;
const CELLS: ReadonlyArray<readonly [string, AnyCell, number]> = [
  ["elmanTanh", elmanTanh, 1],
  ["elmanRelu", elmanRelu, 1],
  ["lstm", lstm, 4],
  ["gru", gru, 3],
  ["peepholeLstm", peepholeLstm, 4],
];

/** Row-major data of a concrete value as plain numbers. */
const nums = (v: unknown): number[] => Array.from((v as T.Tensor).data);
/** W v for a `[rows, cols]` weight, in float64 JavaScript numbers. */
const matvec = (w: unknown, v: readonly number[]): number[] => {
  const [rows, cols] = (w as T.Tensor).shape as [number, number];
  const d = nums(w);
  return Array.from({ length: rows }, (_, r) => v.reduce((acc, x, k) => acc + d[r * cols + k]! * x, 0));
};
const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const block = (v: readonly number[], g: number): number[] => v.slice(g * H, (g + 1) * H);

describe("withoutBias: parameters", () => {
  it.each(CELLS)("%s: init holds no bias fields, and the weights cell.init draws from the same key", (_, cell) => {
    const biased = cell.init(key, sizes, { dtype: "float64" }) as Record<string, Value>;
    const bare = withoutBias(cell as typeof lstm).init(key, sizes, { dtype: "float64" }) as Record<string, Value>;
    expect(Object.keys(bare).sort()).toEqual(
      Object.keys(biased)
        .filter((k) => k !== "bias_ih" && k !== "bias_hh")
        .sort(),
    );
    for (const k of Object.keys(bare)) expect(nums(bare[k])).toEqual(nums(biased[k]));
  });

  it("the gradient has no bias entries either (nothing for an optimizer to update)", () => {
    const cell = withoutBias(lstm);
    const p = cell.init(key, sizes, { dtype: "float64" });
    const xs = T.random.normal(T.random.key(4), [2, 5, 3], "float64");
    const g = grad((q: typeof p) => sum(rnn(cell, q, xs).outputs))(p);
    expect(Object.keys(g).sort()).toEqual(["weight_hh", "weight_ih"]);
  });
});

describe("withoutBias: the step against a float64 reference", () => {
  const x = T.random.normal(T.random.key(5), [1, 3], "float64");
  const h0 = T.random.normal(T.random.key(6), [1, H], "float64");
  const c0 = T.random.normal(T.random.key(7), [1, H], "float64");

  it("elmanTanh / elmanRelu: h' = act(W_ih x + W_hh h)", () => {
    for (const [cell, act] of [
      [elmanTanh, Math.tanh],
      [elmanRelu, (v: number) => Math.max(v, 0)],
    ] as const) {
      const bare = withoutBias(cell);
      const p = bare.init(key, sizes, { dtype: "float64" });
      const [h] = bare.step(p)(h0, x);
      const want = matvec(p.weight_ih, nums(x)).map((v, j) => act(v + matvec(p.weight_hh, nums(h0))[j]!));
      nums(h).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 14));
    }
  });

  it("gru: n = tanh(W_in x + r ⊙ (W_hn h)), both b terms gone", () => {
    const bare = withoutBias(gru);
    const p = bare.init(key, sizes, { dtype: "float64" });
    const [h] = bare.step(p)(h0, x);
    const [xi, hh, hv] = [matvec(p.weight_ih, nums(x)), matvec(p.weight_hh, nums(h0)), nums(h0)];
    const r = block(xi, 0).map((v, j) => sig(v + block(hh, 0)[j]!));
    const z = block(xi, 1).map((v, j) => sig(v + block(hh, 1)[j]!));
    const n = block(xi, 2).map((v, j) => Math.tanh(v + r[j]! * block(hh, 2)[j]!));
    const want = n.map((nj, j) => (1 - z[j]!) * nj + z[j]! * hv[j]!);
    nums(h).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 14));
  });

  it("lstm: gates W_ih x + W_hh h, c' = f c + i g, h' = o tanh(c')", () => {
    const bare = withoutBias(lstm);
    const p = bare.init(key, sizes, { dtype: "float64" });
    const [carry] = bare.step(p)({ h: h0, c: c0 }, x);
    const gates = matvec(p.weight_ih, nums(x)).map((v, j) => v + matvec(p.weight_hh, nums(h0))[j]!);
    const [i, f, g, o] = [block(gates, 0).map(sig), block(gates, 1).map(sig), block(gates, 2), block(gates, 3)];
    const c = nums(c0).map((cj, j) => f[j]! * cj + i[j]! * Math.tanh(g[j]!));
    const want = c.map((cj, j) => sig(o[j]!) * Math.tanh(cj));
    nums(carry.c).forEach((v, j) => expect(v).toBeCloseTo(c[j]!, 14));
    nums(carry.h).forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 14));
  });

  it("every cell: the step equals the biased cell's step with both biases zero", () => {
    for (const [name, cell, gates] of CELLS) {
      const bare = withoutBias(cell as typeof lstm);
      const p = bare.init(key, sizes, { dtype: "float64" });
      const zero = T.zeros([gates * H], "float64");
      const full = { ...p, bias_ih: zero, bias_hh: zero } as TorchCellParams;
      const carry = name.includes("lstm") || name === "peepholeLstm" ? { h: h0, c: c0 } : h0;
      const [, y] = bare.step(p)(carry as LstmCarry, x);
      const [, yFull] = (cell as typeof lstm).step(full)(carry as LstmCarry, x);
      const diff = nums(y).map((v, j) => Math.abs(v - nums(yFull)[j]!));
      expect(Math.max(...diff), name).toBe(0);
    }
  });
});

describe("withoutBias: the laws", () => {
  it("lstm without bias", () => cellLaws(withoutBias(lstm), { sizes, seed: 1, batch: 2, time: 3 }));
  it("gru without bias", () => cellLaws(withoutBias(gru), { sizes, seed: 2, batch: 2, time: 3 }));
});

describe("withoutBias and the cells: errors", () => {
  const p = lstm.init(key, sizes);
  const x = T.zeros([2, 3]);

  it("a record with one bias but not the other names the missing one", () => {
    const { bias_hh: _hh, ...onlyIh } = p;
    expect(() => lstm.step(onlyIh as TorchCellParams)).toThrow(
      /lstm\.step: params have bias_ih but no bias_hh; .*both biases or neither \(argument `params\.bias_hh`\).*bias=False/,
    );
    const { bias_ih: _ih, ...onlyHh } = p;
    expect(() => gru.initialCarry(2, onlyHh as TorchCellParams)).toThrow(
      /gru\.initialCarry: params have bias_hh but no bias_ih.*`params\.bias_ih`/,
    );
  });

  it("the built-in cells step a record without both biases (PyTorch's bias=False)", () => {
    const { bias_ih: _ih, bias_hh: _hh, ...bare } = p;
    const [carry] = lstm.step(bare as TorchCellParams)(lstm.initialCarry(2, bare as TorchCellParams), x);
    expect(carry.h.shape).toEqual([2, 4]);
  });

  it("refuses another cell, forgetBias, and biased params", () => {
    expect(() => withoutBias(mgu as never)).toThrow(
      /withoutBias: expected a built-in PyTorch-layout cell, got the cell "mgu".*`cell`.*pass elmanTanh, elmanRelu, lstm, gru or peepholeLstm/,
    );
    expect(() => withoutBias(withoutBias(lstm) as never)).toThrow(/the cell "lstmWithoutBias"/);
    expect(() => withoutBias(lstm).init(key, sizes, { forgetBias: 1 })).toThrow(
      /lstmWithoutBias\.init: .*a cell without bias has none \(argument `options\.forgetBias`\).*use lstm/,
    );
    expect(() => withoutBias(lstm).step(p)).toThrow(
      /lstmWithoutBias\.step: a cell without bias got params holding bias_ih and bias_hh \(argument `params\.bias_ih`\)/,
    );
    expect(() => withoutBias(gru).init(key, sizes, { dtyp: "float64" } as never)).toThrow(/gru\.init.*dtyp/);
  });
});
