/**
 * float32 cumsum along the last axis in WebAssembly SIMD (four rows at a time, transposed in
 * registers) against a plain reference loop, bit for bit: both directions, row counts that are and
 * are not multiples of 4, several chunks, the longest rows the kernel takes and longer ones, row
 * lengths it does not take, and edge values (NaN, ±Inf, −0, overflow to Inf).
 */
import { describe, expect, it } from "vitest";
import { cumsum } from "../src/kernels/cumulative.js";
import { setKernelBackend, type KernelBackend } from "../src/kernels/backend.js";
import { cumsumRowsWasm } from "../src/wasm/cumsumWasm.js";
import { fromDataOrThrow } from "../src/Tensor.js";
import { size } from "./helpers.js";

const withBackend = <R>(b: KernelBackend, f: () => R): R => {
  const before = setKernelBackend(b);
  try {
    return f();
  } finally {
    setKernelBackend(before);
  }
};

/** Each row's running sum in a double, rounded to float32 when stored. */
const reference = (data: Float32Array, outer: number, n: number, reverse: boolean): number[] => {
  const out = new Array<number>(outer * n).fill(0);
  for (let o = 0; o < outer; o++) {
    let s = 0;
    for (let k = 0; k < n; k++) {
      const i = o * n + (reverse ? n - 1 - k : k);
      s += data[i]!;
      out[i] = Math.fround(s);
    }
  }
  return out;
};

const EDGE = [NaN, Infinity, -Infinity, -0, 1e30, -1e30, 3.4e38];

describe("float32 cumsum along rows in WebAssembly SIMD", () => {
  // [5, 8]: one group of four rows and one row left; [4100, 4]: 1025 groups, two chunks of 1024;
  // [9, 4096]: the longest rows; [3, 4100], [6, 7]: rows it does not take; [2, 3, 12]: more axes.
  const shapes = [
    [5, 8],
    [4100, 4],
    [9, 4096],
    [3, 4100],
    [6, 7],
    [2, 3, 12],
    [64, 128],
  ];
  for (const shape of shapes)
    for (const backend of ["wasm", "js"] as const)
      it(`[${shape.join(", ")}], both directions, ${backend} backend, with NaN, ±Inf, −0 and overflow`, () => {
        const total = size(shape);
        const data = Array.from({ length: total }, (_, i) =>
          i % 389 === 11 ? EDGE[i % EDGE.length]! : Math.sin(i * 1.3) * 1000,
        );
        const x = fromDataOrThrow(data, shape, "float32");
        const n = shape.at(-1)!;
        for (const reverse of [false, true]) {
          const got = withBackend(backend, () => cumsum(x, { reverse })).data;
          const want = reference(x.data as Float32Array, total / n, n, reverse);
          const i = want.findIndex((v, k) => !Object.is(v, got[k]));
          expect(i, `first difference at ${i} (reverse ${reverse})`).toBe(-1);
        }
      });

  it("writes the leading groups of four rows and says how many, or 0 where it does not apply", () => {
    const x = new Float32Array(Array.from({ length: 7 * 8 }, (_, i) => i % 5));
    const out = new Float32Array(x.length);
    expect(cumsumRowsWasm(x, out, 7, 8, false)).toBe(4);
    expect(Array.from(out.subarray(0, 32))).toEqual(reference(x, 7, 8, false).slice(0, 32));
    expect(Array.from(out.subarray(32))).toEqual(new Array<number>(24).fill(0));
    expect(cumsumRowsWasm(x, out, 8, 7, false)).toBe(0);
  });
});
