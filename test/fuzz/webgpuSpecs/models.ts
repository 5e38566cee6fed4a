/**
 * @file The functions the Dawn half of the webgpu fuzz suite runs on the device and on the CPU
 * (onDevice.ts), their random arguments, and the comparison of a device result with the CPU's.
 *
 * The float32 tolerance, per element: |gpu − cpu| ≤ RTOL·|cpu| + ATOL·n·s, where n is the number
 * of terms the value sums (1 elementwise, the reduction length for a sum or a product's inner
 * size) and s the magnitude of a term. WGSL's exp, tanh and the like are not correctly rounded
 * (SwiftShader's exp(1) is 2 ulp off; the spec allows more), hence RTOL 1e-5 (about 80 ulp);
 * the device sums in another order than the CPU (partial sums in workgroups), whose rounding
 * differs by at most about n·2⁻²⁴·s, which ATOL = 1e-6 (16 times that) bounds. The same figures
 * as the package's own device tests (packages/webgpu/test/browser/helpers.ts) and its README
 * ("Semantics and tolerance"). int32 and bool results, every movement and copy, rounding and
 * conversions must be exact; NaN, ±Inf and ±0 must be the CPU's.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

type V = A.Value;

const RTOL = 1e-5;
const ATOL = 1e-6;

/** Expects `got` (read from the device) to equal `want` (the CPU's): exact, or within the float32 tolerance. */
export const expectClose = (got: T.Tensor, want: T.Tensor, terms: number, scale: number, what: string): void => {
  expect([got.dtype, got.shape], what).toEqual([want.dtype, want.shape]);
  const exact = want.dtype !== "float32";
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(got.data[i]);
    const e = Number(want.data[i]);
    const ok =
      Object.is(a, e) ||
      (a === 0 && e === 0) ||
      (Number.isNaN(a) && Number.isNaN(e)) ||
      (!exact && Number.isFinite(e) && Math.abs(a - e) <= RTOL * Math.abs(e) + ATOL * terms * scale);
    if (!ok) expect.fail(`${what}: element ${i} is ${a} on the device, ${e} on the CPU (${want.dtype})`);
  }
};

/** Values of a dtype from a seed: floats uniform in [−2, 2), ints in [−8, 8], bools. */
export const values = (shape: readonly number[], dtype: T.DType, seed: number): T.Tensor => {
  if (dtype === "float32") return T.random.uniform(T.random.key(seed), shape, { min: -2, max: 2, dtype: "float32" });
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: size }, (_, i) =>
    dtype === "bool" ? Number((seed + i) % 3 === 0) : ((seed + 7 * i) % 17) - 8,
  );
  return T.fromDataOrThrow(data, shape, dtype);
};

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A function to run on the device, its arguments for a shape, dtype and seed, and how it sums. */
export interface Model {
  readonly name: string;
  readonly dtypes: readonly T.DType[];
  readonly f: (...args: never[]) => unknown;
  readonly args: (shape: readonly number[], dtype: T.DType, seed: number) => T.Tensor[];
  /** Terms summed per value, and their magnitude (see the tolerance above). */
  readonly terms: (shape: readonly number[]) => number;
  readonly scale: number;
}

const one = (s: readonly number[], d: T.DType, k: number): T.Tensor[] => [values(s, d, k)];
const ALL: readonly T.DType[] = ["float32", "int32", "bool"];
const MODELS: readonly Model[] = [
  {
    name: "an elementwise chain",
    dtypes: ["float32"],
    f: (x: V) => A.tanh(A.mul(A.exp(A.neg(A.abs(x))), 2)),
    args: one,
    terms: () => 1,
    scale: 2,
  },
  {
    name: "a broadcast product and sum",
    dtypes: ["float32", "int32"],
    f: (x: V, y: V) => A.add(A.mul(x, y), y),
    args: (s, d, k) => [values(s, d, k), values(s.slice(-1), d, k + 1)],
    terms: () => 2,
    scale: 4,
  },
  {
    name: "reductions",
    dtypes: ["float32", "int32"],
    f: (x: V) => [A.sum(x), A.max(A.mul(x, 3))],
    args: one,
    terms: (s) => Math.max(1, size(s)),
    scale: 6,
  },
  {
    name: "a mean over the last axis, kept",
    dtypes: ["float32"],
    f: (x: V) => A.sub(x, A.mean(x, { axis: -1, keepDims: true })),
    args: (s, d, k) => [values(s.length === 0 ? [1] : s, d, k)],
    terms: (s) => Math.max(1, s[s.length - 1] ?? 1),
    scale: 2,
  },
  {
    name: "comparisons and a select",
    dtypes: ["float32", "int32"],
    f: (x: V) => [A.greater(x, 0), A.where(A.less(x, 1), x, A.neg(x))],
    args: one,
    terms: () => 1,
    scale: 2,
  },
  { name: "logicalNot", dtypes: ["bool"], f: (x: V) => A.logicalNot(x), args: one, terms: () => 1, scale: 1 },
  {
    name: "movement",
    dtypes: ALL,
    f: (x: V) => [A.transpose(x), A.reshape(x, [-1])],
    args: one,
    terms: () => 1,
    scale: 1,
  },
  {
    name: "a matrix product",
    dtypes: ["float32"],
    f: (a: V, b: V) => A.matmul(a, b),
    args: (s, d, k) => [values([s[0] ?? 1, s[1] ?? 2], d, k), values([s[1] ?? 2, s[2] ?? 3], d, k + 1)],
    terms: (s) => Math.max(1, s[1] ?? 2),
    scale: 4,
  },
  {
    name: "a gradient",
    dtypes: ["float32"],
    f: A.grad((x: V) => A.sum(A.tanh(A.mul(x, x)))),
    args: one,
    terms: () => 1,
    scale: 8,
  },
  {
    name: "a scalar on the host lane",
    dtypes: ["float32", "int32"],
    f: (x: V, c: V) => A.mul(x, c),
    args: (s, d, k) => [values(s, d, k), values([], d, k + 3)],
    terms: () => 1,
    scale: 4,
  },
];

/** Halves, ±0, ±Inf and NaN, cycled from a seed: where rounding, conversions and NaN rules show. */
const SPECIALS = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, Infinity, -Infinity, NaN, 3, -7.25, 1e30, -1e-3];
const specials = (shape: readonly number[], seed: number): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: size(shape) }, (_, i) => SPECIALS[(seed + i * 5) % SPECIALS.length]!),
    shape,
    "float32",
  );

/** More models: special values, int32 arithmetic, conversions, cumulative sums, slices and joins. */
const MORE: readonly Model[] = [
  {
    name: "rounding and comparisons of special values",
    dtypes: ["float32"],
    // README: a conversion to int32 truncates and wraps modulo 2³² (1e30 too); NaN and ±Inf give 0.
    f: (x: V, y: V) => [
      ...[A.floor(x), A.ceil(x), A.round(x), A.sign(x), A.maximum(x, y), A.minimum(x, y), A.isNaN(x)],
      A.astype(x, "int32"),
    ],
    args: (s, _d, k) => [specials(s, k), specials(s, k + 3)],
    terms: () => 1,
    scale: 1,
  },
  {
    name: "divisions, roots and logs of special values",
    dtypes: ["float32"],
    f: (x: V, y: V) => [A.div(x, y), A.sqrt(x), A.log(x), A.exp(x), A.mul(x, y)],
    args: (s, _d, k) => [specials(s, k), specials(s, k + 1)],
    terms: () => 1,
    scale: 1,
  },
  {
    name: "conversions",
    dtypes: ["float32", "int32", "bool"],
    f: (x: V) => [A.astype(x, "float32"), A.astype(x, "bool"), A.astype(A.astype(x, "bool"), "int32")],
    args: one,
    terms: () => 1,
    scale: 1,
  },
  {
    name: "float32 to int32 within range",
    dtypes: ["float32"],
    f: (x: V) => A.astype(A.mul(x, 1000), "int32"),
    args: one,
    terms: () => 1,
    scale: 1,
  },
  {
    name: "int32 arithmetic",
    dtypes: ["int32"],
    // Products past 2³¹ wrap as on the CPU.
    f: (x: V, y: V) => [A.sub(x, y), A.mul(A.mul(x, 65537), 65537), A.maximum(x, y), A.equal(x, y), A.neg(A.abs(x))],
    args: (s, d, k) => [values(s, d, k), values(s, d, k + 5)],
    terms: () => 1,
    scale: 1,
  },
  {
    name: "cumulative sums and maxima",
    dtypes: ["float32", "int32"],
    f: (x: V) => [A.cumsum(x), A.cummax(x, { reverse: true })],
    args: (s, d, k) => [values(s.length === 0 ? [3] : s, d, k)],
    terms: (s) => Math.max(1, s[s.length - 1] ?? 3),
    scale: 2,
  },
  {
    name: "slices, flips, joins and takes",
    dtypes: ALL,
    f: (x: V) => [
      A.slice(x, [{ start: 1, step: 2 }]),
      A.flip(x, 0),
      A.concat([x, x], 0),
      A.take(x, [0, -1, 0], 0),
      A.pad(x, [[1, 0]]),
    ],
    args: (s, d, k) => [values([(s[0] ?? 1) + 1, ...s.slice(1)], d, k)],
    terms: () => 1,
    scale: 1,
  },
];

export const EVERY: readonly Model[] = [...MODELS, ...MORE];
