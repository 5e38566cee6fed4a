/**
 * Small test helpers for the layer-shape, bidirectional and TBPTT suites. They do not import
 * @rewind/testing (which depends on @rewind/rnn).
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

export const key = (n: number): T.Key => T.random.key(n);
export const normal64 = (seed: number, shape: readonly number[]): T.Tensor =>
  T.random.normal(key(seed), shape, "float64");
export const asT = (v: A.Value): T.Tensor => v as T.Tensor;
export const nums = (v: A.Value): number[] => Array.from(asT(v).data, Number);

/** Largest elementwise gap between two pytrees of tensors (structures and shapes must match). */
export const maxGap = (a: unknown, b: unknown): number => {
  const [la, da] = A.treeFlatten(a);
  const [lb, db] = A.treeFlatten(b);
  expect(A.treeDefKey(da)).toBe(A.treeDefKey(db));
  let gap = 0;
  la.forEach((x, i) => {
    const y = lb[i]!;
    expect([...x.shape]).toEqual([...y.shape]);
    const xd = asT(x).data;
    const yd = asT(y).data;
    for (let j = 0; j < xd.length; j++) {
      const d = Math.abs(Number(xd[j]) - Number(yd[j]));
      gap = Math.max(gap, Number.isNaN(d) ? Infinity : d);
    }
  });
  return gap;
};

/** Expects two pytrees of tensors to agree to `atol + rtol·|b|`. */
export const expectClose = (a: unknown, b: unknown, tol: { atol?: number; rtol?: number } = {}): void => {
  const atol = tol.atol ?? 1e-10;
  const rtol = tol.rtol ?? 1e-8;
  const [la] = A.treeFlatten(a);
  const [lb] = A.treeFlatten(b);
  expect(maxGap(a, b)).toBeLessThan(Infinity);
  la.forEach((x, i) => {
    const xd = asT(x).data;
    const yd = asT(lb[i]!).data;
    for (let j = 0; j < xd.length; j++) {
      const ok = Math.abs(Number(xd[j]) - Number(yd[j])) <= atol + rtol * Math.abs(Number(yd[j]));
      if (!ok) expect.fail(`leaf ${i}, element ${j}: ${xd[j]} vs ${yd[j]}`);
    }
  });
};

/** Slices `[B, T, ...]` down to sample b's first `len` steps, as a batch of one `[1, len, ...]`. */
export const sampleAlone = (xs: A.Value, b: number, len: number): T.Tensor =>
  asT(
    A.slice(xs, [
      { start: b, stop: b + 1 },
      { start: 0, stop: len },
    ]),
  );

/** Row b of each leaf of a `[B, ...]` pytree, keeping a batch axis of 1. */
export const rowOf = <X>(tree: X, b: number): X => A.treeMap<X>((l) => A.slice(l, [{ start: b, stop: b + 1 }]), tree);

const axpy = (alpha: number, v: unknown, x: unknown): unknown =>
  A.treeMap((xl, vl) => (T.isFloating(xl.dtype) ? T.add(asT(xl), T.mul(asT(vl), alpha)) : xl), x, v);

const dot = (a: unknown, b: unknown): number => {
  let s = 0;
  const [la] = A.treeFlatten(a);
  const [lb] = A.treeFlatten(b);
  la.forEach((x, i) => {
    if (!T.isFloating(x.dtype)) return;
    const xd = asT(x).data;
    const yd = asT(lb[i]!).data;
    for (let j = 0; j < xd.length; j++) s += Number(xd[j]) * Number(yd[j]);
  });
  return s;
};

/**
 * Random-direction finite differences in float64: ⟨∇f(p), v⟩ against (f(p + εv) − f(p − εv)) / 2ε
 * for a random normal direction v over every float leaf of `params`. Returns both numbers.
 */
export const fdCheck = <P>(
  f: (p: P) => A.Value,
  params: P,
  seed = 0,
  eps = 1e-6,
): { analytic: number; numeric: number } => {
  const [leaves, def] = A.treeFlatten(params);
  const keys = T.random.split(key(seed), Math.max(1, leaves.length));
  const v = A.treeUnflatten(
    def,
    leaves.map((l, i) =>
      T.isFloating(l.dtype) ? T.random.normal(keys[i]!, l.shape, l.dtype) : T.zeros(l.shape, l.dtype),
    ),
  );
  const g = A.grad(f)(params);
  const analytic = dot(g, v);
  const numeric = (T.item(asT(f(axpy(eps, v, params) as P))) - T.item(asT(f(axpy(-eps, v, params) as P)))) / (2 * eps);
  return { analytic, numeric };
};

/** Expects fdCheck to agree to a relative 1e-6 (float64). */
export const expectGradMatchesFd = <P>(f: (p: P) => A.Value, params: P, seed = 0): void => {
  const { analytic, numeric } = fdCheck(f, params, seed);
  expect(Number.isFinite(analytic)).toBe(true);
  expect(Math.abs(analytic)).toBeGreaterThan(1e-8);
  expect(Math.abs(analytic - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
};

/** A weighted sum of every float leaf: a generic scalar loss with a non-trivial gradient. */
export const weighted = (tree: unknown, seed: number): A.Value => {
  const leaves = A.treeLeaves(tree).filter((l) => T.isFloating(l.dtype));
  return leaves.map((l, i) => A.sum(A.mul(l, normal64(seed + i, l.shape)))).reduce((a, b) => A.add(a, b));
};

/** Expects `f` to throw an error whose message contains every fragment. */
export const expectThrows = (f: () => unknown, ...fragments: readonly string[]): void => {
  let message: string | undefined;
  try {
    f();
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message, "expected an error").toBeDefined();
  for (const fr of fragments) expect(message).toContain(fr);
};
