/**
 * @file Shared by the compiler's tests: bit-for-bit comparison of compiled and interpreted runs,
 * and fast-check arbitraries for tensors with awkward values (NaN, ±Infinity, −0, huge, tiny).
 */
import { expect } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import { evalGraph } from "../src/core.js";

export type Fn = (...args: never[]) => unknown;

type Fn1 = (...a: unknown[]) => unknown;

export const call = (f: Fn, args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

/** Throws unless both pytrees have the same leaves: dtype, shape and every bit (NaN, −0 included). */
export const expectBits = (label: string, got: unknown, want: unknown): void => {
  const [g] = A.treeFlatten(got);
  const [w] = A.treeFlatten(want);
  if (g.length !== w.length) throw new Error(`${label}: ${g.length} leaves, expected ${w.length}`);
  w.forEach((wl, i) => {
    const gt = g[i] as T.Tensor;
    const wt = wl as T.Tensor;
    if (gt.dtype !== wt.dtype || !T.shapesEqual(gt.shape, wt.shape)) {
      throw new Error(`${label}: leaf ${i} is ${gt.dtype}[${gt.shape}], expected ${wt.dtype}[${wt.shape}]`);
    }
    const j = wt.data.findIndex((x, k) => !Object.is(x, gt.data[k]));
    if (j >= 0) throw new Error(`${label}: leaf ${i} differs at flat index ${j}: ${gt.data[j]} vs ${wt.data[j]}`);
  });
};

const attempt = (f: () => unknown): { value?: unknown; error?: string } => {
  try {
    return { value: f() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
};

/**
 * `jit(f)(...args)` equals `jit(f, { compile: false })(...args)` bit for bit, or both throw the
 * same message. Returns the compiled result.
 */
export const expectInvariant = (label: string, f: Fn, args: readonly unknown[]): unknown => {
  // A new jit per case, on purpose (warnRetraces: false: the warning is about doing so in a loop).
  const want = attempt(() => call(A.jit(f as Fn1, { compile: false, warnRetraces: false }), args));
  const got = attempt(() => call(A.jit(f as Fn1, { warnRetraces: false }), args));
  if (want.error !== undefined || got.error !== undefined) {
    expect(got.error, label).toBe(want.error);
    return undefined;
  }
  expectBits(label, got.value, want.value);
  return got.value;
};

/** Numbers that stress exactness: ordinary reals plus NaN, ±Infinity, ±0, huge and tiny values. */
export const awkward = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e30, -1e-30, 3.4e38, 1e-45, 0.5, -1.5, 2.5),
  },
);

/** A tensor of `shape` and `dtype` with awkward values (int32: small integers; bool: 0/1). */
export const tensorOf = (
  shape: readonly number[],
  dtype: T.DType,
  values: fc.Arbitrary<number> = awkward,
): fc.Arbitrary<T.Tensor> => {
  const n = T.sizeOf(shape);
  const elem =
    dtype === "int32" ? fc.integer({ min: -7, max: 7 }) : dtype === "bool" ? fc.integer({ min: 0, max: 1 }) : values;
  return fc.array(elem, { minLength: n, maxLength: n }).map((d) => T.fromDataOrThrow(d, shape, dtype));
};

/** A shape of rank 0..maxRank with dims 1..maxDim. */
export const arbShape = (maxRank = 3, maxDim = 4, minRank = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** A shape broadcastable to `out`: leading axes dropped, some axes set to 1. */
export const broadcastableTo = (out: readonly number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    )
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));

export const floatDTypes = ["float32", "float64"] as const;

/** A traced function of tensors, for `compileBothWays`. */
export type GraphFn = (...xs: A.Value[]) => A.Value | readonly A.Value[];

/**
 * Traces `f` at `args`, compiles it with the WebAssembly kernels and with the JavaScript backend
 * (`setKernelBackend("js")`), checks both runners against the interpreter bit for bit, and
 * returns them, so a test can also ask which path each took.
 * @example const { simd, js } = compileBothWays("rowsum", (x) => A.sum(x, { axis: 0 }), [x])
 */
export const compileBothWays = (
  label: string,
  f: GraphFn,
  args: readonly T.Tensor[],
): { readonly simd: A.CompiledGraph; readonly js: A.CompiledGraph } => {
  const { graph, consts } = A.makeGraph(f)(...args);
  // The graph's inputs are the tensors `f` captured (a literal tensor it made), then the arguments.
  const inputs = [...(consts as readonly T.Tensor[]), ...args];
  const simd = A.compileGraph(graph);
  const before = T.setKernelBackend("js");
  let js: A.CompiledGraph;
  try {
    js = A.compileGraph(graph);
  } finally {
    T.setKernelBackend(before);
  }
  const want = evalGraph(graph, inputs);
  expectBits(`${label} (SIMD)`, simd(inputs), want);
  expectBits(`${label} (JS)`, js(inputs), want);
  return { simd, js };
};

/**
 * The (m, k, n) of every product the code generated for `f` calls, in order: which products a
 * rewrite of the compiler left (e.g. `["7x6x9"]`). A pair of products of one a (`mm2`, see
 * pairProducts.ts) reads `m×k×n1+n2`.
 */
export const productDims = (f: GraphFn, args: readonly T.Tensor[]): string[] => {
  const run = A.compileGraph(A.makeGraph(f)(...args).graph);
  const single = /\bmma?\([^;]*?, (\d+), (\d+), (\d+), (?:true|false), (?:true|false)\);/.source;
  const pair = /\bmm2\((?:[^;]*?, ){10}(\d+), (\d+), (\d+), (\d+), /.source;
  return [...run.source.matchAll(new RegExp(`${single}|${pair}`, "g"))].map((m) =>
    m[1] !== undefined ? `${m[1]}x${m[2]}x${m[3]}` : `${m[4]}x${m[5]}x${m[6]}+${m[7]}`,
  );
};

/** Compiled = interpreted (`expectInvariant`) = eager, bit for bit. */
export const expectThreeWays = (label: string, f: GraphFn, args: readonly T.Tensor[]): void => {
  const got = expectInvariant(label, f, args);
  expectBits(`${label} (eager)`, got, f(...args));
};
