/**
 * @file End-to-end training: tiny models written with Rewind's ops, trained by plain gradient
 * descent written here (no optimizer package), must actually learn. Deterministic: parameters and
 * data come from fixed PRNG keys, so the asserted loss drops are reproducible bit for bit.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";

type Params = Readonly<Record<string, Value>>;

/** Gaussian parameters of the given shapes, scaled, from one key (one sub-key per name). */
const initParams = (seed: number, shapes: Readonly<Record<string, { shape: number[]; scale: number }>>): Params => {
  const names = Object.keys(shapes);
  const keys = T.random.split(T.random.key(seed), names.length);
  return Object.fromEntries(
    names.map((n, i) => [n, T.mul(T.random.normal(keys[i]!, shapes[n]!.shape, "float64"), shapes[n]!.scale)]),
  );
};

/** One step of plain gradient descent on a pytree: p ← p − lr·g. */
const sgdStep = (params: Params, grads: Params, lr: number): Params =>
  A.treeMap((p, g) => A.sub(p, A.mul(g, lr)), params, grads);

/** Binary cross-entropy on logits, written stably: softplus(z) − y·z, averaged. */
const bceWithLogits = (logits: Value, targets: Value): Value =>
  A.mean(A.sub(A.softplus(logits), A.mul(targets, logits)));

/**
 * Runs `steps` of gradient descent and returns the losses before and after. The loss-and-gradient
 * function is jitted: traced once, its graph (forward and backward) reused every step.
 */
const train = (
  loss: (p: Params) => Value,
  init: Params,
  steps: number,
  lr: number,
): { first: number; last: number; params: Params } => {
  const step = A.jit((p: Params) => A.valueAndGrad(loss)(p));
  let params = init;
  let first = NaN;
  for (let i = 0; i < steps; i++) {
    const [value, grads] = step(params);
    if (i === 0) first = T.item(value as T.Tensor);
    params = sgdStep(params, grads, lr);
  }
  expect(step.cacheSize()).toBe(1);
  return { first, last: T.item(loss(params) as T.Tensor), params };
};

describe("training with plain gradient descent", () => {
  it("a 2-8-1 tanh MLP learns XOR (loss falls by ≥ 80%, all four points right)", () => {
    const x = T.tensor(
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
      "float64",
    );
    const y = T.tensor([[0], [1], [1], [0]], "float64");
    const logits = (p: Params, input: Value): Value =>
      A.add(A.matmul(A.tanh(A.add(A.matmul(input, p["w1"]!), p["b1"]!)), p["w2"]!), p["b2"]!);
    const init = initParams(0, {
      w1: { shape: [2, 8], scale: 1 },
      b1: { shape: [8], scale: 0.1 },
      w2: { shape: [8, 1], scale: 0.5 },
      b2: { shape: [1], scale: 0.1 },
    });
    const { first, last, params } = train((p) => bceWithLogits(logits(p, x), y), init, 300, 0.5);
    expect(last).toBeLessThan(0.2 * first);
    const predicted = Array.from((A.greater(logits(params, x), 0) as T.Tensor).data);
    expect(predicted).toEqual([0, 1, 1, 0]);
  });

  it("a one-layer tanh RNN written with scan learns the sign of a running sum (loss falls by ≥ 80%)", () => {
    const steps = 8;
    const batch = 32;
    const hidden = 8;
    // Inputs uniform in [−1, 1], time-major [T, B, 1]; target at t: Σ_{s≤t} x_s > 0.
    const xs = T.random.uniform(T.random.key(1), [steps, batch, 1], { min: -1, max: 1, dtype: "float64" });
    const targets = new Float64Array(steps * batch);
    for (let b = 0; b < batch; b++) {
      let running = 0;
      for (let t = 0; t < steps; t++) {
        running += xs.data[t * batch + b]!;
        targets[t * batch + b] = running > 0 ? 1 : 0;
      }
    }
    const ys = T.fromBuffer("float64", [steps, batch, 1], targets);
    const init = initParams(2, {
      wx: { shape: [1, hidden], scale: 1 },
      wh: { shape: [hidden, hidden], scale: 0.3 },
      bh: { shape: [hidden], scale: 0 },
      wy: { shape: [hidden, 1], scale: 0.5 },
      by: { shape: [1], scale: 0 },
    });
    const logitsOf = (p: Params): Value => {
      const cell = (h: Value, x: Value): readonly [Value, Value] => {
        const next = A.tanh(A.add(A.add(A.matmul(x, p["wx"]!), A.matmul(h, p["wh"]!)), p["bh"]!));
        return [next, A.add(A.matmul(next, p["wy"]!), p["by"]!)];
      };
      return A.scan(cell, T.zeros([batch, hidden], "float64"), xs)[1];
    };
    const { first, last, params } = train((p) => bceWithLogits(logitsOf(p), ys), init, 150, 1);
    expect(last).toBeLessThan(0.2 * first);
    // At least 95% of the per-step predictions are right.
    const predicted = (A.greater(logitsOf(params), 0) as T.Tensor).data;
    const right = targets.filter((y, i) => y === predicted[i]).length;
    expect(right / targets.length).toBeGreaterThanOrEqual(0.95);
  });
});
