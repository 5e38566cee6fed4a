/**
 * @file Small helpers for the cell/combinator/layer tests: reading tensors into numbers, a
 * closeness assertion, and a float64 finite-difference check of one scalar loss in a random
 * direction (this package's tests cannot import @rewind/testing, which depends on it).
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

/** The numbers of a concrete value, row-major. */
export const nums = (v: unknown): number[] => Array.from((v as T.Tensor).data as ArrayLike<number>);

/** A rank-2 concrete value as rows of numbers. */
export const rows = (v: unknown): number[][] => {
  const t = v as T.Tensor;
  const [r, c] = t.shape as [number, number];
  return Array.from({ length: r }, (_, i) => nums(t).slice(i * c, (i + 1) * c));
};

/** A rank-1 concrete value as numbers. */
export const vec = (v: unknown): number[] => nums(v);

/** Asserts two arrays of numbers agree elementwise within `tol` (absolute + relative). */
export const expectClose = (actual: readonly number[], expected: readonly number[], tol = 1e-12): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      throw new Error(`element ${i}: ${a} vs expected ${e} (tol ${tol})`);
    }
  });
};

/** Asserts two pytrees of values agree leaf by leaf. */
export const expectTreeClose = (actual: unknown, expected: unknown, tol = 1e-12): void => {
  const [a, da] = A.treeFlatten(actual);
  const [e, de] = A.treeFlatten(expected);
  expect(A.treeDefKey(da)).toBe(A.treeDefKey(de));
  a.forEach((leaf, i) => {
    expect(leaf.shape).toEqual(e[i]!.shape);
    expectClose(nums(leaf), nums(e[i]), tol);
  });
};

/** Standard normal float64 tensor. */
export const randn = (seed: number, shape: readonly number[]): T.Tensor =>
  T.random.normal(T.random.key(seed), shape, "float64");

/** Replaces every leaf of a tree with a fresh normal float64 tensor of the same shape. */
export const randomize = <P>(tree: P, seed: number, scale = 0.5): P => {
  const [leaves, def] = A.treeFlatten(tree);
  const keys = T.random.split(T.random.key(seed), Math.max(1, leaves.length));
  return A.treeUnflatten<P>(
    def,
    leaves.map((l, i) => A.mul(T.random.normal(keys[i]!, l.shape, "float64"), scale)),
  );
};

/** Σ over the leaves of the elementwise product of two trees of the same structure. */
const dot = (a: unknown, b: unknown): number => {
  const [la] = A.treeFlatten(a);
  const [lb] = A.treeFlatten(b);
  return la.reduce((s, l, i) => s + (A.sum(A.mul(l, lb[i]!)) as T.Tensor).data[0]!, 0);
};

/**
 * Float64 central differences of `loss` at `params` along a random direction v, against
 * ⟨grad loss, v⟩. Float leaves only are perturbed (int leaves, e.g. token ids, are not params).
 * @returns both numbers, after asserting they agree to `tol` relative.
 */
export const checkGradFd = <P>(
  loss: (p: P) => A.Value,
  params: P,
  seed = 7,
  eps = 1e-6,
  tol = 1e-6,
): { analytic: number; numeric: number } => {
  const g = A.grad(loss)(params);
  const [leaves, def] = A.treeFlatten(params);
  const keys = T.random.split(T.random.key(seed), Math.max(1, leaves.length));
  const v = A.treeUnflatten<P>(
    def,
    leaves.map((l, i) => (T.isFloating(l.dtype) ? T.random.normal(keys[i]!, l.shape, "float64") : A.zerosLike(l))),
  );
  const shifted = (s: number): P =>
    A.treeMap<P>((p, d) => (T.isFloating(p.dtype) ? A.add(p, A.mul(d, s)) : p), params, v);
  const at = (p: P): number => (loss(p) as T.Tensor).data[0]!;
  const numeric = (at(shifted(eps)) - at(shifted(-eps))) / (2 * eps);
  const analytic = dot(g, v);
  if (!(Math.abs(analytic - numeric) <= tol * Math.max(1, Math.abs(numeric)))) {
    throw new Error(`gradient check failed: ⟨grad, v⟩ = ${analytic}, finite difference = ${numeric}`);
  }
  return { analytic, numeric };
};

/** σ over a number. */
export const sig = (x: number): number => 1 / (1 + Math.exp(-x));

/** Row r of `w` (as rows) times vector `x`. */
export const rowDot = (w: readonly (readonly number[])[], r: number, x: readonly number[]): number =>
  w[r]!.reduce((s, wi, j) => s + wi * x[j]!, 0);

/** The TensorException `thunk` throws (fails the test when it returns). */
export const refusal = (thunk: () => unknown): T.TensorException => {
  try {
    thunk();
  } catch (e) {
    expect(e).toBeInstanceOf(T.TensorException);
    return e as T.TensorException;
  }
  throw new Error("expected a TensorException, but nothing was thrown");
};
