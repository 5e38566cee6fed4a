/**
 * @file Benchmarks of the cumulative ops: `cumsum` over [16, 1024, 128] float32 along each axis,
 * eager and jitted, against a plain `Float32Array` copy of the same size in the same run (issue
 * 17's target: cumsum at ≥ 50% of the copy's memory bandwidth, i.e. "vs baseline" ≥ 0.50× for
 * the time axis). Both read and write every element once, so the time ratio is the bandwidth ratio.
 * Axes 0 and 1 run the WebAssembly SIMD kernel (axis 0's 131072 columns in blocks of 4096), axis 2
 * (the last) the JavaScript row loop, four rows interleaved (a SIMD row kernel was dropped: see
 * wasm/cumsumWasm.ts).
 * Also the gradient of each cumulative op over the time axis, jitted: the VJPs of cumprod, cummax
 * and logcumsumexp are a few passes around one `linearScan` kernel pass each.
 */
import { random, type Tensor } from "@rewind/tensor";
import { cummax, cumprod, cumsum, grad, jit, logcumsumexp, mul, sum, type Value } from "@rewind/autodiff";
import type { BenchCase, BenchSuite } from "./run.js";

const SHAPE = [16, 1024, 128] as const;
const SIZE = SHAPE[0] * SHAPE[1] * SHAPE[2];
const COPY = `Float32Array copy [${SHAPE.join(", ")}]`;

const input = (): Tensor => random.normal(random.key(17), [...SHAPE], "float32");

const copyCase: BenchCase = {
  name: COPY,
  elements: SIZE,
  minRepeats: 20,
  setup: () => {
    const src = input().data as Float32Array;
    // A fresh buffer per call, as every op returns one.
    return () => src.slice();
  },
};

const cumsumCases = (axis: number): BenchCase[] => [
  {
    name: `cumsum f32 [${SHAPE.join(", ")}] axis ${axis} eager`,
    elements: SIZE,
    baseline: COPY,
    minRepeats: 20,
    setup: () => {
      const x = input();
      return () => cumsum(x, { axis });
    },
  },
  {
    name: `cumsum f32 [${SHAPE.join(", ")}] axis ${axis} jit`,
    elements: SIZE,
    baseline: COPY,
    minRepeats: 20,
    setup: () => {
      const x = input();
      const f = jit((v: Value) => cumsum(v, { axis }));
      return () => f(x);
    },
  },
];

const gradCase = (name: string, op: (x: Value, o: { axis: number }) => Value): BenchCase => ({
  name: `jit(grad(sum(w · ${name}))) f32 [${SHAPE.join(", ")}] axis 1`,
  elements: SIZE,
  baseline: COPY,
  maxRepeats: 10,
  setup: () => {
    const x = input();
    const w = random.normal(random.key(18), [...SHAPE], "float32");
    const f = jit(grad((v: Value) => sum(mul(op(v, { axis: 1 }), w))));
    return () => f(x);
  },
});

export const suite: BenchSuite = {
  name: "cumulative",
  cases: [
    copyCase,
    ...cumsumCases(1),
    ...cumsumCases(2),
    ...cumsumCases(0),
    gradCase("cumsum", cumsum),
    gradCase("cumprod", cumprod),
    gradCase("cummax", cummax),
    gradCase("logcumsumexp", logcumsumexp),
  ],
};
