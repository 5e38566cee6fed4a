/**
 * @file Benchmarks of @rewind/tensor kernels: float32 matmul on its three kernels, and
 * elementwise add and exp, reductions and softmax on a million float32 elements.
 *
 * matmul float32 at n = 128, 512, 1024 runs, in the same process: the WebAssembly SIMD kernel
 * (through `matmul`), the pure-JS fallback with the same arithmetic (through `matmul` with the
 * backend pinned to JS), and the float32 JS kernel `matmul` used before (kept below verbatim as
 * the baseline), plus the transposed variants (`matmulInto` with `transA`/`transB`) at 512 and a
 * naive i-k-j loop at 512 for scale. The machine may be shared: compare the "min ms" column.
 */
import { fromBuffer, type Tensor } from "../packages/tensor/src/Tensor.js";
import { add } from "../packages/tensor/src/kernels/binary.js";
import { matmul, matmulInto } from "../packages/tensor/src/kernels/matmul.js";
import { setKernelBackend, type KernelBackend } from "../packages/tensor/src/kernels/backend.js";
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
  fromBuffer(
    "float32",
    shape,
    filled(
      shape.reduce((p, d) => p * d, 1),
      seed,
    ),
  );

/** A plain i-k-j loop over Float32Arrays, allocating its output as matmul does. */
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

/* The float32 kernel of packages/tensor/src/kernels/matmul.ts before the WebAssembly kernel
 * replaced it (4×4 register blocking, 256×256 cache blocks, four products summed in float64),
 * copied verbatim so the baseline stays the same code as the library moves on. */
const KB = 256;
const JB = 256;
const oldKernelF32 = (
  out: Float32Array,
  oo: number,
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  m: number,
  k: number,
  n: number,
): void => {
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(p0 + KB, k);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(j0 + JB, n);
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const o0 = oo + i * n,
          o1 = o0 + n,
          o2 = o1 + n,
          o3 = o2 + n;
        const a0 = ao + i * k,
          a1 = a0 + k,
          a2 = a1 + k,
          a3 = a2 + k;
        let p = p0;
        for (; p + 4 <= p1; p += 4) {
          const x0 = a[a0 + p]!,
            x1 = a[a1 + p]!,
            x2 = a[a2 + p]!,
            x3 = a[a3 + p]!;
          const y0 = a[a0 + p + 1]!,
            y1 = a[a1 + p + 1]!,
            y2 = a[a2 + p + 1]!,
            y3 = a[a3 + p + 1]!;
          const z0 = a[a0 + p + 2]!,
            z1 = a[a1 + p + 2]!,
            z2 = a[a2 + p + 2]!,
            z3 = a[a3 + p + 2]!;
          const w0 = a[a0 + p + 3]!,
            w1 = a[a1 + p + 3]!,
            w2 = a[a2 + p + 3]!,
            w3 = a[a3 + p + 3]!;
          const r0 = bo + p * n,
            r1 = r0 + n,
            r2 = r1 + n,
            r3 = r2 + n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!,
              b1 = b[r1 + j]!,
              b2 = b[r2 + j]!,
              b3 = b[r3 + j]!;
            out[o0 + j] = out[o0 + j]! + (x0 * b0 + y0 * b1 + z0 * b2 + w0 * b3);
            out[o1 + j] = out[o1 + j]! + (x1 * b0 + y1 * b1 + z1 * b2 + w1 * b3);
            out[o2 + j] = out[o2 + j]! + (x2 * b0 + y2 * b1 + z2 * b2 + w2 * b3);
            out[o3 + j] = out[o3 + j]! + (x3 * b0 + y3 * b1 + z3 * b2 + w3 * b3);
          }
        }
        for (; p < p1; p++) {
          const x0 = a[a0 + p]!,
            x1 = a[a1 + p]!,
            x2 = a[a2 + p]!,
            x3 = a[a3 + p]!;
          const r0 = bo + p * n;
          for (let j = j0; j < j1; j++) {
            const b0 = b[r0 + j]!;
            out[o0 + j] = out[o0 + j]! + x0 * b0;
            out[o1 + j] = out[o1 + j]! + x1 * b0;
            out[o2 + j] = out[o2 + j]! + x2 * b0;
            out[o3 + j] = out[o3 + j]! + x3 * b0;
          }
        }
      }
      for (; i < m; i++) {
        const o0 = oo + i * n,
          a0 = ao + i * k;
        for (let p = p0; p < p1; p++) {
          const x0 = a[a0 + p]!,
            r0 = bo + p * n;
          for (let j = j0; j < j1; j++) out[o0 + j] = out[o0 + j]! + x0 * b[r0 + j]!;
        }
      }
    }
  }
};

/** Runs `f` with the float32 matmul kernel pinned to `backend`, restoring the setting after. */
const pinned = <T>(backend: KernelBackend, f: () => T): T => {
  const before = setKernelBackend(backend);
  try {
    return f();
  } finally {
    setKernelBackend(before);
  }
};

const matmulCases = (n: number): BenchCase[] => {
  const flops = 2 * n ** 3;
  const baseline = `matmul f32 n=${n} old JS kernel`;
  // The JS kernels take up to a second per call at 1024: time them fewer times.
  const slow = n >= 1024 ? { minRepeats: 3, maxRepeats: 3 } : {};
  const tensors = (): [Tensor, Tensor] => [randomTensor([n, n], 1), randomTensor([n, n], 2)];
  return [
    {
      name: baseline,
      flops,
      ...slow,
      setup: () => {
        const [a, b] = [filled(n * n, 1), filled(n * n, 2)];
        return () => {
          const out = new Float32Array(n * n);
          oldKernelF32(out, 0, a, 0, b, 0, n, n, n);
          return out;
        };
      },
    },
    {
      name: `matmul f32 n=${n} wasm`,
      flops,
      baseline,
      minRepeats: 10,
      setup: () => {
        const [a, b] = tensors();
        return () => pinned("wasm", () => matmul(a, b));
      },
    },
    {
      name: `matmul f32 n=${n} JS fallback`,
      flops,
      baseline,
      ...slow,
      setup: () => {
        const [a, b] = tensors();
        return () => pinned("js", () => matmul(a, b));
      },
    },
  ];
};

/** `matmulInto` at 512 with one operand read transposed, into a preallocated output. */
const transposedCases = (): BenchCase[] => {
  const n = 512;
  const variants = [
    ["nt", { transB: true }],
    ["tn", { transA: true }],
  ] as const;
  return variants.flatMap(([label, options]) =>
    (["wasm", "js"] as const).map((backend): BenchCase => ({
      name: `matmulInto f32 n=${n} ${label} ${backend === "wasm" ? "wasm" : "JS fallback"}`,
      flops: 2 * n ** 3,
      baseline: `matmul f32 n=${n} old JS kernel`,
      setup: () => {
        const [a, b, out] = [filled(n * n, 3), filled(n * n, 4), new Float32Array(n * n)];
        return () => pinned(backend, () => matmulInto(out, 0, a, 0, b, 0, n, n, n, options));
      },
    })),
  );
};

const million = 1_000_000;

/**
 * The tensor suite, run by `bench/run.ts`: matmul float32 at n = 128, 512, 1024 on each kernel,
 * transposed variants at 512, and elementwise, reduction and softmax kernels on 1e6 elements.
 * @example timeCase(suite.name, suite.cases[1]!).medianMs // matmul f32 n=128, in ms
 */
export const suite: BenchSuite = {
  name: "tensor",
  cases: [
    ...matmulCases(128),
    ...matmulCases(512),
    ...matmulCases(1024),
    ...transposedCases(),
    {
      name: "matmul f32 n=512 naive i-k-j",
      flops: 2 * 512 ** 3,
      setup: () => {
        const [a, b] = [filled(512 * 512, 1), filled(512 * 512, 2)];
        return () => naiveMatmul(a, b, 512);
      },
    },
    {
      // After the float32 cases on purpose: shows the float64 kernel is not slowed by the
      // float32 ones having run first (they are separate functions; see matmul.ts).
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
