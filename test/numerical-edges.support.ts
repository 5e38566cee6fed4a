/**
 * @file Shared pieces of the numerical-edge tests: the two float dtypes with their precisions, and
 * an elementwise comparison against a float64 reference that names the worst element.
 *
 * References are computed in float64 with formulas written in the tests (stable ones, or closed
 * forms), never taken from Rewind. A float32 result is compared with the reference rounded to
 * float32 (`Math.fround`), the best a float32 result can be.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";

/** The float dtypes, with their unit roundoff `eps` (half an ulp of 1) and smallest subnormal. */
export const DTYPES = [
  { dtype: "float32", eps: 2 ** -24, tiny: 2 ** -149, round: Math.fround },
  { dtype: "float64", eps: 2 ** -53, tiny: 2 ** -1074, round: (v: number) => v },
] as const;
export type DTypeCase = (typeof DTYPES)[number];

/** How close a result must be: |got − ref| ≤ rel·eps·|ref| + abs·eps + tiny (a subnormal step). */
export interface Tol {
  /** Relative error allowed, in units of the dtype's eps. */
  readonly rel: number;
  /** Absolute error allowed, in units of eps (for results that cancel against 1, like y(1 − y)). */
  readonly abs?: number;
}

/** A tensor's elements as numbers (a `Value` that is a tracer has none: tests pass tensors). */
export const values = (v: unknown): number[] => {
  if (!T.isTensor(v)) throw new Error("numerical-edges: expected a concrete tensor");
  return Array.from(v.data, Number);
};

/**
 * Expects `got` to match the float64 reference `ref` elementwise within `tol` (one for all, or per
 * element; NaN must match NaN, ±Inf the same ±Inf), naming the first bad element by its input `xs[i]`.
 */
export const expectNear = (
  label: string,
  got: unknown,
  ref: readonly number[],
  c: DTypeCase,
  tol: Tol | ((i: number) => Tol),
  xs: readonly number[] = [],
): void => {
  const g = values(got);
  expect(g.length, `${label}: length`).toBe(ref.length);
  ref.forEach((r64, i) => {
    const r = c.round(r64);
    const v = g[i]!;
    const at = `${label} [${c.dtype}] at ${xs[i] ?? `index ${i}`}: got ${v}, reference ${r}`;
    if (Number.isNaN(r) || !Number.isFinite(r)) {
      expect(Object.is(v, r) || (Number.isNaN(v) && Number.isNaN(r)), at).toBe(true);
      return;
    }
    expect(Number.isFinite(v), at).toBe(true);
    const t = typeof tol === "function" ? tol(i) : tol;
    const allowed = t.rel * c.eps * Math.abs(r) + (t.abs ?? 0) * c.eps + c.tiny;
    expect(Math.abs(v - r) <= allowed, `${at} (error ${Math.abs(v - r)} > ${allowed})`).toBe(true);
  });
};

/** Expects two results to be the same bits (NaN payloads aside): the compiler's promise. */
export const expectSameBits = (label: string, a: unknown, b: unknown): void => {
  const [x, y] = [values(a), values(b)];
  expect(x.length, label).toBe(y.length);
  x.forEach((v, i) =>
    expect(Object.is(v, y[i]) || (Number.isNaN(v) && Number.isNaN(y[i])), `${label} at ${i}: ${v} vs ${y[i]}`).toBe(
      true,
    ),
  );
};

/**
 * jit's option for these tests, which make a new jit per case on purpose: the retrace warning is
 * about doing so in a loop.
 */
export const QUIET = { warnRetraces: false } as const;

/** The same function three ways: eager ops, jit on the interpreter, jit compiled. */
export const threeWays = <Args extends unknown[]>(f: (...args: Args) => unknown) =>
  [
    ["eager", f],
    ["jit (interpreted)", A.jit(f, { ...QUIET, compile: false })],
    ["jit (compiled)", A.jit(f, QUIET)],
  ] as const;

// -- float64 references, from stable formulas --------------------------------------------------

/** σ(x), exponentiating only non-positive numbers. */
export const sigmoidRef = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** σ'(x) = σ(x) σ(−x): no 1 − σ cancellation in either tail. */
export const sigmoidD1 = (x: number): number => sigmoidRef(x) * sigmoidRef(-x);
/** σ''(x) = σ(x) σ(−x) (σ(−x) − σ(x)). */
export const sigmoidD2 = (x: number): number => sigmoidD1(x) * (sigmoidRef(-x) - sigmoidRef(x));
/** softplus(x) = max(x, 0) + log1p(e^−|x|). */
export const softplusRef = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** sech²(x) = 4 e^−2|x| / (1 + e^−2|x|)², finite for any x. */
export const sech2 = (x: number): number => {
  const e = Math.exp(-2 * Math.abs(x));
  return (4 * e) / ((1 + e) * (1 + e));
};
