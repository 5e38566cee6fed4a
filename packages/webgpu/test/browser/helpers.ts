/**
 * @file Shared by the browser tests: one WebGPU device per file, the comparison of a device call
 * with the CPU jit on the same arguments, and THE float32 tolerance (stated once, here).
 */
import { jit, makeGraph, treeLeaves, type Graph } from "@rewind/autodiff";
import { fromDataOrThrow, type DType, type Tensor } from "@rewind/tensor";
import fc from "fast-check";
import { expect } from "vitest";
import { readTree, webgpu, type WebGpu } from "../../src/index.js";

/**
 * The float32 tolerance of a WGSL lowering against the CPU: |gpu − cpu| ≤ RTOL·|cpu| + ATOL·n·s,
 * where n is the number of terms a value sums (1 for elementwise ops, the reduction length for
 * sum/prod/matmul) and s the magnitude of the terms. WGSL's transcendental functions are not
 * correctly rounded (SwiftShader's exp(1) is 2 ulp off), hence the relative 1e-5 (≈ 80 ulp).
 * int32, bool and every movement op must agree exactly.
 */
export const RTOL = 1e-5;
/** The absolute floor per summed term (see `RTOL`). */
export const ATOL = 1e-6;

let device: Promise<WebGpu> | undefined;
/**
 * The device of this test file (one `webgpu()` per file).
 * @example const gpu = await gpuOnce();
 */
export const gpuOnce = (): Promise<WebGpu> => (device ??= webgpu());

/** Names of the primitives in a graph, nested bodies included. */
export const primitivesOf = (g: Graph, into = new Set<string>()): Set<string> => {
  for (const e of g.eqns) {
    into.add(e.prim.name);
    const p = e.params as { body?: Graph } | undefined;
    if (p?.body !== undefined) primitivesOf(p.body, into);
  }
  return into;
};

/** The primitives the comparisons of this file ran (each file checks it covered its list). */
export const seen = new Set<string>();

/** How to compare one call: `terms` summed per value and their magnitude, or exact. */
export interface Compare {
  /** Terms summed into each value (reduction length); default 1. */
  readonly terms?: number;
  /** Magnitude of a term; default 1. */
  readonly scale?: number;
  /** Require equality (movement ops, int32, bool); default: float32 tolerance for floats. */
  readonly exact?: boolean;
}

/** Asserts `actual` (from the device) matches `expected` (from the CPU) under `cmp`. */
export const expectMatch = (actual: Tensor, expected: Tensor, cmp: Compare = {}, what = ""): void => {
  expect(actual.dtype, what).toBe(expected.dtype);
  expect(actual.shape, what).toEqual(expected.shape);
  const exact = cmp.exact === true || expected.dtype !== "float32";
  const floor = ATOL * (cmp.terms ?? 1) * (cmp.scale ?? 1);
  for (let i = 0; i < expected.data.length; i++) {
    const a = Number(actual.data[i]);
    const e = Number(expected.data[i]);
    const ok =
      Object.is(a, e) ||
      (Number.isNaN(a) && Number.isNaN(e)) ||
      (!exact && Number.isFinite(e) && Math.abs(a - e) <= RTOL * Math.abs(e) + floor) ||
      (a === 0 && e === 0);
    if (!ok) expect.fail(`${what} element ${i}: device ${a}, CPU ${e} (${exact ? "exact" : "float32 tolerance"})`);
  }
};

/**
 * Runs `f` through the CPU jit and through `jit(f, { backend: gpu })` on `args`, and compares
 * every leaf of the results.
 * @example await compare((x) => exp(x), [x]);
 */
export const compare = async (f: (...args: never[]) => unknown, args: readonly unknown[], cmp: Compare = {}) => {
  const gpu = await gpuOnce();
  primitivesOf(makeGraph(f, { optimize: true })(...args).graph, seen);
  // The interpreter: bit for bit the compiled CPU jit (a project guarantee), without compiling per shape.
  const cpu = treeLeaves(jit(f as (...a: unknown[]) => unknown, { compile: false })(...args)) as Tensor[];
  const dev = treeLeaves(
    await readTree(await jit(f as (...a: unknown[]) => unknown, { backend: gpu })(...args)),
  ) as Tensor[];
  expect(dev.length).toBe(cpu.length);
  cpu.forEach((c, i) => expectMatch(dev[i]!, c, cmp, `${f.toString().slice(0, 80)} leaf ${i}`));
};

/** A shape of rank 0–3 with dimensions 1–5 (0 sometimes: empty tensors). */
export const shapeArb = (maxRank = 3, minDim = 1): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: minDim, max: 5 }), { minLength: 0, maxLength: maxRank });

/**
 * A float32 tensor of `shape` with values in [min, max], without subnormals: WGSL lets the device
 * flush them to zero (SwiftShader does), so sign(1e-40) is 0 there (README: semantics).
 */
export const floats = (shape: readonly number[], min = -4, max = 4): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, d) => a * d, 1);
  return fc
    .array(fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true }), { minLength: n, maxLength: n })
    .map((xs) =>
      fromDataOrThrow(
        xs.map((x) => (Math.abs(x) < 1.1754944e-38 ? 0 : x)),
        shape,
        "float32",
      ),
    );
};

/** An int32 (or bool) tensor of `shape` with values in [min, max]. */
export const ints = (shape: readonly number[], min = -5, max = 5, dtype: DType = "int32"): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, d) => a * d, 1);
  return fc
    .array(fc.integer({ min, max }), { minLength: n, maxLength: n })
    .map((xs) => fromDataOrThrow(dtype === "bool" ? xs.map((x) => x & 1) : xs, shape, dtype));
};

/** fast-check runs per property (the device calls are slow on SwiftShader: keep the suite short). */
export const RUNS = { numRuns: 6 };
