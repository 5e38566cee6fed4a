import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import {
  add,
  estimateResiduals,
  estimateScanResiduals,
  grad,
  matmul,
  mean,
  scan,
  sum,
  tanh,
  type Value,
} from "../src/index.js";

const H = 4;
const B = 2;
const w = T.mul(T.random.normal(T.random.key(0), [H, H], "float64"), 0.5);
const step = (h: Value, x: Value) => {
  const n = tanh(add(matmul(h, w), x));
  return [n, n] as const;
};

describe("residual memory", () => {
  it("estimates what each checkpoint policy stores", () => {
    const time = 64;
    const xs = T.random.normal(T.random.key(1), [time, B, H], "float64");
    const h0 = T.zeros([B, H], "float64");
    const carryBytes = B * H * 8;
    // The tanh RNN's VJP reads only each step's output (tanh' from its value): one [T, B, H] array.
    expect(estimateScanResiduals(step, h0, xs, { remat: "all" })).toEqual({ bytes: time * carryBytes, arrays: 1 });
    expect(estimateScanResiduals(step, h0, xs, { remat: "carries" })).toEqual({
      bytes: time * carryBytes,
      arrays: 1,
    });
    // One carry per segment of 8 steps.
    expect(estimateScanResiduals(step, h0, xs, { remat: { every: 8 } })).toEqual({
      bytes: (time / 8) * carryBytes,
      arrays: 1,
    });
  });

  it("counts every intermediate a plain function keeps", () => {
    const x = T.zeros([1000], "float64");
    // tanh(x) and tanh(tanh(x)) are kept (tanh' from outputs), plus the scalar sum output.
    expect(estimateResiduals((v: Value) => sum(tanh(tanh(v))), x)).toEqual({ bytes: 2 * 8000 + 8, arrays: 3 });
  });
});

describe("long sequences", () => {
  it("scans and differentiates 10,000 steps without a stack overflow", () => {
    const time = 10_000;
    const xs = T.mul(T.random.normal(T.random.key(2), [time, 1, H], "float64"), 0.1);
    const loss = (h0: Value) => mean(scan(step, h0, xs)[1]);
    const g = grad(loss)(T.zeros([1, H], "float64"));
    expect(g.shape).toEqual([1, H]);
    expect(Array.from(g.data).every(Number.isFinite)).toBe(true);
    // The same gradient with carries-only checkpointing.
    const g2 = grad((h0: Value) => mean(scan(step, h0, xs, { remat: { every: 100 } })[1]))(T.zeros([1, H], "float64"));
    Array.from(g.data).forEach((v, i) => expect(g2.data[i]).toBeCloseTo(v, 12));
  });
});
