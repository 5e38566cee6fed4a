/**
 * @file Benchmarks of @rewind/autodiff: tracing and VJP-graph construction for graphs of 1e3 and
 * 1e4 equations, and `grad` of a tanh RNN at T = 100 through `scan` versus through the unrolled
 * loop (time here; graph size and residual memory printed when the suite loads).
 */
import { random, type Tensor } from "@rewind/tensor";
import {
  add,
  estimateResiduals,
  grad,
  makeGraph,
  matmul,
  mean,
  mul,
  scan,
  sin,
  square,
  stack,
  tanh,
  type ClosedGraph,
  type Value,
} from "@rewind/autodiff";
import type { BenchCase, BenchSuite } from "./run.js";

/** A chain of `n` elementwise equations (sin and mul alternate). */
const chain =
  (n: number) =>
  (x: Value): Value => {
    let y = x;
    for (let i = 0; i < n / 2; i++) y = mul(sin(y), 1.0001);
    return mean(y);
  };

const traceCase = (n: number): BenchCase => ({
  name: `trace + VJP graph, ${n} eqns`,
  elements: n,
  maxRepeats: 20,
  setup: () => {
    const x = random.normal(random.key(0), [8], "float64");
    return () => makeGraph(grad(chain(n)))(x);
  },
});

const T = 100;
const B = 8;
const H = 32;
const keys = random.split(random.key(1), 3) as [random.Key, random.Key, random.Key];
const params = {
  wxh: mul(random.normal(keys[0], [H, H], "float64"), 1 / Math.sqrt(H)),
  whh: mul(random.normal(keys[1], [H, H], "float64"), 1 / Math.sqrt(H)),
};
const xs = random.normal(keys[2], [T, B, H], "float64");
const h0 = random.normal(random.key(2), [B, H], "float64");

const step = (p: typeof params) => (h: Value, x: Value) => {
  const hNext = tanh(add(matmul(x, p.wxh), matmul(h, p.whh)));
  return [hNext, hNext] as const;
};
const scanLoss = (p: typeof params): Value => mean(square(scan(step(p), h0, xs)[1]));
const unrolledLoss = (p: typeof params): Value => {
  let h: Value = h0;
  const ys: Value[] = [];
  for (let t = 0; t < T; t++) {
    [h] = step(p)(h, sliceStep(t));
    ys.push(h);
  }
  return mean(square(stack(ys)));
};
const sliceStep = (t: number): Tensor => ({ ...xs, shape: [B, H], data: xs.data.subarray(t * B * H, (t + 1) * B * H) });

const eqnCount = (g: ClosedGraph): number => g.graph.eqns.size;
const kib = (f: (p: typeof params) => Value): string => `${(estimateResiduals(f, params).bytes / 1024).toFixed(0)} KiB`;
console.log(
  `autodiff: grad of the T=${T} tanh RNN — top-level equations: ${eqnCount(makeGraph(grad(scanLoss))(params))} through scan vs ` +
    `${eqnCount(makeGraph(grad(unrolledLoss))(params))} unrolled; residuals kept for the backward pass: ${kib(scanLoss)} vs ${kib(unrolledLoss)}`,
);

export const suite: BenchSuite = {
  name: "autodiff",
  cases: [
    traceCase(1_000),
    traceCase(10_000),
    {
      name: `unrolled grad, tanh RNN T=${T} B=${B} H=${H}`,
      maxRepeats: 10,
      setup: () => () => grad(unrolledLoss)(params),
    },
    {
      name: `scan grad, tanh RNN T=${T} B=${B} H=${H}`,
      maxRepeats: 10,
      baseline: `unrolled grad, tanh RNN T=${T} B=${B} H=${H}`,
      setup: () => () => grad(scanLoss)(params),
    },
  ],
};
