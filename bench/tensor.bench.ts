/**
 * @file Benchmarks of @rewind/tensor kernels: matmul against a plain JavaScript loop, and
 * elementwise add and exp, reductions and softmax on a million float32 elements.
 *
 * The naive matmul is the i-k-j triple loop anyone would write first (already the cache-friendly
 * order; an i-j-k loop would be slower still), timed in the same process so the ratio is fair.
 */
import { fromBuffer, type Tensor } from "../packages/tensor/src/Tensor.js";
import { add } from "../packages/tensor/src/kernels/binary.js";
import { matmul } from "../packages/tensor/src/kernels/matmul.js";
import { sum } from "../packages/tensor/src/kernels/reduce.js";
import { softmax } from "../packages/tensor/src/kernels/softmax.js";
import { exp } from "../packages/tensor/src/kernels/unary.js";
import type { BenchCase, BenchSuite } from "./run.js";

/** Deterministic values in [-1, 1): a small linear congruential generator (benchmarks need no keys). */
const filled = (n: number, seed: number): Float32Array => {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
};
const randomTensor = (shape: readonly number[], seed: number): Tensor =>
  fromBuffer("float32", shape, filled(shape.reduce((p, d) => p * d, 1), seed));

/** The baseline: a plain i-k-j loop over Float32Arrays, allocating its output as matmul does. */
const naiveMatmul = (a: Float32Array, b: Float32Array, n: number): Float32Array => {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const av = a[i * n + p]!;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + av * b[p * n + j]!;
    }
  }
  return out;
};

const matmulCases = (n: number): BenchCase[] => {
  const flops = 2 * n ** 3;
  // Large sizes take seconds per naive call: time them fewer times to stay within the budget.
  const repeats = n >= 1024 ? { minRepeats: 3, maxRepeats: 3 } : {};
  return [
    {
      name: `matmul f32 n=${n} naive i-k-j`,
      flops,
      ...repeats,
      setup: () => {
        const a = filled(n * n, 1);
        const b = filled(n * n, 2);
        return () => naiveMatmul(a, b, n);
      },
    },
    {
      name: `matmul f32 n=${n}`,
      flops,
      baseline: `matmul f32 n=${n} naive i-k-j`,
      ...repeats,
      setup: () => {
        const a = randomTensor([n, n], 1);
        const b = randomTensor([n, n], 2);
        return () => matmul(a, b);
      },
    },
  ];
};

const million = 1_000_000;

/**
 * The tensor suite, run by `bench/run.ts`: matmul float32 at n = 128, 512, 1024 beside a naive
 * loop, and elementwise, reduction and softmax kernels on 1e6 float32 elements.
 * @example timeCase(suite.name, suite.cases[1]!).medianMs // matmul f32 n=128, in ms
 */
export const suite: BenchSuite = {
  name: "tensor",
  cases: [
    ...matmulCases(128),
    ...matmulCases(512),
    ...matmulCases(1024),
    {
      // After the float32 cases on purpose: shows the float64 copy of the kernel is not slowed
      // by the float32 one having run first (they are separate functions; see matmul.ts).
      name: "matmul f64 n=512",
      flops: 2 * 512 ** 3,
      setup: () => {
        const a = fromBuffer("float64", [512, 512], Float64Array.from(filled(512 * 512, 8)));
        const b = fromBuffer("float64", [512, 512], Float64Array.from(filled(512 * 512, 9)));
        return () => matmul(a, b);
      },
    },
    {
      name: "add f32 1e6",
      elements: million,
      setup: () => {
        const a = randomTensor([million], 3);
        const b = randomTensor([million], 4);
        return () => add(a, b);
      },
    },
    {
      name: "exp f32 1e6",
      elements: million,
      setup: () => {
        const a = randomTensor([million], 5);
        return () => exp(a);
      },
    },
    {
      name: "sum f32 1e6 (axis 0 of 1000×1000)",
      elements: million,
      setup: () => {
        const a = randomTensor([1000, 1000], 6);
        return () => sum(a, { axis: 0 });
      },
    },
    {
      name: "softmax f32 1e6 (1000×1000, last axis)",
      elements: million,
      setup: () => {
        const a = randomTensor([1000, 1000], 7);
        return () => softmax(a);
      },
    },
  ],
};
