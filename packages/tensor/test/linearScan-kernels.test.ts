/**
 * The linearScan kernel's fast paths (float32 WebAssembly SIMD, the JavaScript blocks of four
 * columns per dtype, the leftover columns) against a plain reference loop, bit for bit: both
 * dtypes, both directions, every axis, sizes that are and are not multiples of 4, chunks of rows,
 * inner sizes above the SIMD kernel's 8192, and edge values (NaN, ±Inf, −0, overflow).
 */
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { linearScan } from "../src/kernels/linearScan.js";
import { setKernelBackend, type KernelBackend } from "../src/kernels/backend.js";
import { linearScanPlanesWasm } from "../src/wasm/linearScanWasm.js";
import { fromDataOrThrow, type Tensor } from "../src/Tensor.js";
import { size } from "./helpers.js";

const withBackend = <R>(b: KernelBackend, f: () => R): R => {
  const before = setKernelBackend(b);
  try {
    return f();
  } finally {
    setKernelBackend(before);
  }
};

/** h = a·h + b down `axis` of `shape`, one output at a time, h in a double, rounded when stored. */
const reference = (a: Tensor, b: Tensor, axis: number, reverse: boolean): number[] => {
  const shape = a.shape;
  const n = shape[axis]!;
  const inner = size(shape.slice(axis + 1));
  const outer = size(shape.slice(0, axis));
  const out = new Array<number>(size(shape)).fill(0);
  const round = a.dtype === "float32" ? Math.fround : (v: number) => v;
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < inner; k++) {
      let h = 0;
      for (let s = 0; s < n; s++) {
        const i = (o * n + (reverse ? n - 1 - s : s)) * inner + k;
        h = a.data[i]! * h + b.data[i]!;
        out[i] = round(h);
      }
    }
  return out;
};

const EDGE = [NaN, Infinity, -Infinity, -0, 1e30, -1e30, 3.5e38];

/** Coefficients around ±1 (so h neither dies nor explodes fast) and inputs with edge values sprinkled in. */
const operands = (shape: readonly number[], dtype: DType): [Tensor, Tensor] => {
  const n = size(shape);
  const a = Array.from({ length: n }, (_, i) => (i % 613 === 7 ? EDGE[i % EDGE.length]! : 1.05 * Math.cos(i * 0.37)));
  const b = Array.from({ length: n }, (_, i) => (i % 997 === 5 ? EDGE[i % EDGE.length]! : Math.sin(i) * 100));
  return [fromDataOrThrow(a, shape, dtype), fromDataOrThrow(b, shape, dtype)];
};

const firstDifference = (got: ArrayLike<number>, want: readonly number[]): number =>
  want.findIndex((v, i) => !Object.is(v, got[i]));

describe("linearScan kernel paths against a plain reference loop", () => {
  // [2, 5000, 4]: 4096-row chunks in SIMD; [3, 1500, 12]: chunks of 1365 rows; [1, 3, 8196] and
  // [1, 5, 12300]: blocks of 4096 columns, the last narrower; [5, 7, 13], [3, 301, 6]: columns left
  // over after the blocks of four (and no SIMD); [4, 9, 3, 2] on axis 1 and 3: more axes around.
  const cases: Array<[number[], number]> = [
    [[2, 5000, 4], 1],
    [[3, 1500, 12], 1],
    [[1, 3, 8196], 1],
    [[1, 5, 12300], 1],
    [[5, 7, 13], 1],
    [[3, 301, 6], 1],
    [[16, 64, 128], 1],
    [[4, 9, 3, 2], 1],
    [[4, 9, 3, 8], 3],
    [[300, 7], 0],
    [[7, 300], 1],
  ];
  for (const [shape, axis] of cases)
    for (const dtype of ["float32", "float64"] as const)
      for (const backend of ["js", "wasm"] as const)
        it(`${dtype} [${shape.join(", ")}] axis ${axis}, both directions, ${backend} backend`, () => {
          const [a, b] = operands(shape, dtype);
          for (const reverse of [false, true]) {
            const got = withBackend(backend, () => linearScan(a, b, { axis, reverse })).data;
            const i = firstDifference(got, reference(a, b, axis, reverse));
            expect(i, `first difference at ${i} (reverse ${reverse})`).toBe(-1);
          }
        });

  it("runs float32 planes with an inner size that is a multiple of 4 in SIMD, and no other", () => {
    const [a, b] = operands([3, 10, 8], "float32");
    const out = new Float32Array(240);
    expect(linearScanPlanesWasm(a.data as Float32Array, b.data as Float32Array, out, 3, 10, 8, false)).toBe(true);
    expect(firstDifference(out, reference(a, b, 1, false))).toBe(-1);
    expect(linearScanPlanesWasm(a.data as Float32Array, b.data as Float32Array, out, 4, 10, 6, false)).toBe(false);
  });
});
