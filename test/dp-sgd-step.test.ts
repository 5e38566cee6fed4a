/**
 * @file The DP-SGD step of examples/dp-spam (per-example clip, sum, noise, divide by B) against
 * the same arithmetic done by hand on a linear model, where each example's gradient is known.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@rewind/tensor";
import { matmul, mean, reshape, square, sub, type Value } from "@rewind/autodiff";
import { sgd } from "@rewind/optim";
import { dpSgdStep } from "../examples/dp-spam/dpsgd.js";

// One example: x [2], y []; loss (x·w − y)², so its gradient is 2(x·w − y)·x.
const exampleLoss = (w: Value, e: { x: Value; y: Value }): Value =>
  mean(square(sub(matmul(reshape(e.x, [1, 2]), w), reshape(e.y, [1, 1]))));
const w0 = [0.5, -1];
const xs = [
  [1, 2],
  [3, 0],
  [0, -1],
];
const ys = [1, 0, 2];
/** Each example's gradient by hand. */
const perExample = xs.map((x, i) => {
  const r = x[0]! * w0[0]! + x[1]! * w0[1]! - ys[i]!;
  return [2 * r * x[0]!, 2 * r * x[1]!];
});
const run = (clip: number, sigma: number, noise: number[]) => {
  const step = dpSgdStep(exampleLoss, sgd({ learningRate: 1 }), { clip, noiseMultiplier: sigma });
  const w = tensor([[w0[0]!], [w0[1]!]], "float64");
  const opt = sgd({ learningRate: 1 }).init(w);
  const batch = { x: tensor(xs, "float64"), y: tensor(ys, "float64") };
  const r = step(w, opt, batch, tensor([[noise[0]!], [noise[1]!]], "float64"));
  return { w: Array.from(r.params.data), clipped: Array.from(r.clippedFraction.data)[0]! };
};
/** w0 − (Σ clip(g_i, C) + σC·noise) / B, by hand. */
const expected = (clip: number, sigma: number, noise: number[]) => {
  const sum: [number, number] = [0, 0];
  for (const g of perExample) {
    const f = Math.min(1, clip / Math.hypot(g[0]!, g[1]!));
    sum[0] += g[0]! * f;
    sum[1] += g[1]! * f;
  }
  return w0.map((w, j) => w - (sum[j]! + sigma * clip * noise[j]!) / xs.length);
};

describe("dpSgdStep", () => {
  it("without clipping or noise it is the plain mean gradient step", () => {
    const { w, clipped } = run(1e9, 0, [0, 0]);
    const want = expected(1e9, 0, [0, 0]);
    w.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 12));
    expect(clipped).toBe(0);
  });
  it("clips each example's gradient to norm C before summing, then adds σC·noise and divides by B", () => {
    const norms = perExample.map((g) => Math.hypot(g[0]!, g[1]!)); // 3.0, 6.7, 7.2 here
    const clip = 4; // cuts two of the three
    const { w, clipped } = run(clip, 1.5, [0.3, -2]);
    const want = expected(clip, 1.5, [0.3, -2]);
    w.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 12));
    expect(clipped).toBeCloseTo(norms.filter((n) => n > clip).length / 3, 6); // a float32 mean
  });
});
