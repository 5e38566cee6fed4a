/**
 * @file logSumExp, softmax and logSoftmax at extreme inputs: entries of ±1e4 and −Inf masks
 * (including a row whose only finite entry is one element), in float32 and float64, through the
 * tensor kernels, eager autodiff, and `jit` (interpreted and compiled), with first and second
 * derivatives against float64 closed forms written here.
 *
 * A fully masked row (all −Inf) follows JAX: logSumExp is −Inf, softmax and logSoftmax are NaN,
 * and the gradient through that row is NaN (log Σ = log 0 meets e^(−Inf) = 0 in the chain rule).
 * Other rows are unaffected, and the usual double `where` (mask the input and the output) gives a
 * finite gradient; both are asserted below.
 * Regression: autodiff's logSoftmax was x − logSumExp(x), which rounds m + log Σ to the dtype
 * first (float32 logSoftmax([1e4, 1e4]) was −0.69336, not −0.69315); it is now (x − m) − log Σ.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { DTYPES, expectNear, expectSameBits, QUIET, threeWays, values } from "./numerical-edges.support.js";

const INF = Infinity;
/** Rows with at least one finite entry: huge spreads, ties at 1e4, masks, one survivor. */
const ROWS = [
  [1e4, -1e4, 0, 5],
  [-INF, 3, -INF, -INF],
  [1e4, 1e4, -INF, 1e4 - 1],
  [-1e4, -1e4 + 1, -1e4, -INF],
  [0, 0, 0, 0],
  [-INF, -1e4, 1e4, -INF],
];
/** Fixed directions for the scalar losses and Hessian-vector products. */
const W = [0.5, -1.25, 2, 0.75, -0.5, 1.5];
const C = [0.3, -0.7, 1.1, 0.2];
const V = [1, -0.5, 0.25, 2];

// -- float64 references per row ---------------------------------------------------------------
// Shifted by the max m and never through m + log Σ, which is rounded at the scale of m (1e4).
const sumExp = (r: readonly number[]): number => r.reduce((s, v) => s + Math.exp(v - Math.max(...r)), 0);
const lseRow = (r: readonly number[]): number => Math.max(...r) + Math.log(sumExp(r));
const pRow = (r: readonly number[]): number[] => r.map((v) => Math.exp(v - Math.max(...r)) / sumExp(r));
const logPRow = (r: readonly number[]): number[] => r.map((v) => v - Math.max(...r) - Math.log(sumExp(r)));
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
/** (diag p − p pᵀ) v: the Hessian of logSumExp applied to v. */
const hvp = (p: readonly number[], v: readonly number[]): number[] => p.map((pi, i) => pi * v[i]! - pi * dot(p, v));

const sumOf = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0);
const cMasked = (r: readonly number[]): number[] => C.map((v, j) => (Number.isFinite(r[j]!) ? v : 0));

const REF = {
  lse: ROWS.map(lseRow),
  softmax: ROWS.flatMap(pRow),
  logSoftmax: ROWS.flatMap(logPRow),
  // ∇ Σ_r W_r lse_r = W_r p_r; then ∇ ⟨that, V⟩ = W_r H_r V.
  lseD1: ROWS.flatMap((r, i) => pRow(r).map((p) => W[i]! * p)),
  lseD2: ROWS.flatMap((r, i) => hvp(pRow(r), V).map((h) => W[i]! * h)),
  // The loss weighs the finite entries by C (masked ones, −Inf, by 0: C' below), so
  // ∇ Σ C'·logSoftmax = C' − p ΣC'; then ∇ ⟨that, V⟩ = −ΣC' · H V.
  logSoftmaxD1: ROWS.flatMap((r) => pRow(r).map((p, j) => cMasked(r)[j]! - p * sumOf(cMasked(r)))),
  logSoftmaxD2: ROWS.flatMap((r) => hvp(pRow(r), V).map((h) => -sumOf(cMasked(r)) * h)),
  // ∇ Σ C·p = p ⊙ (C − p·C) = H C; ψ = ⟨H C, V⟩ = A − B·D with A = (V⊙C)·p, B = V·p, D = C·p, so
  // ∇ψ = H (V⊙C) − D · H V − B · H C.
  softmaxD1: ROWS.flatMap((r) => hvp(pRow(r), C)),
  softmaxD2: ROWS.flatMap((r) => {
    const p = pRow(r);
    const vc = V.map((v, j) => v * C[j]!);
    const [hvc, hv, hc] = [hvp(p, vc), hvp(p, V), hvp(p, C)];
    return p.map((_, j) => hvc[j]! - dot(C, p) * hv[j]! - dot(V, p) * hc[j]!);
  }),
};

describe.each(DTYPES)("the softmax family at ±1e4 and −Inf masks, $dtype", (c) => {
  const x = T.tensor(ROWS, c.dtype);
  const w = T.tensor(W, c.dtype);
  const cw = T.tensor(C, c.dtype);
  const vw = T.tensor(V, c.dtype);
  // Outputs of size 1 (softmax) are relative to 1; logs of size ~1e4 carry the input's rounding.
  const tol = { rel: 64, abs: 64 };

  it("the tensor kernels match the references", () => {
    expectNear("T.logSumExp", T.logSumExp(x, { axis: -1 }), REF.lse, c, tol);
    expectNear("T.softmax", T.softmax(x), REF.softmax, c, tol);
    expectNear("T.logSoftmax", T.logSoftmax(x), REF.logSoftmax, c, tol);
  });

  const fns = {
    lse: (v: Value) => A.logSumExp(v, { axis: -1 }),
    softmax: (v: Value) => A.softmax(v),
    logSoftmax: (v: Value) => A.logSoftmax(v),
  };
  const losses = {
    lse: (v: Value) => A.sum(A.mul(fns.lse(v), w)),
    softmax: (v: Value) => A.sum(A.mul(fns.softmax(v), cw)),
    logSoftmax: (v: Value) => A.sum(A.mul(A.where(A.isFinite(fns.logSoftmax(v)), fns.logSoftmax(v), 0), cw)),
  };
  const hvpOf = (loss: (v: Value) => Value) => A.grad((v: Value) => A.sum(A.mul(A.grad(loss)(v), vw)));

  describe.each(Object.keys(fns) as Array<keyof typeof fns>)("%s", (name) => {
    it.each(threeWays(fns[name]))("value (%s)", (_, f) => {
      expectNear(name, f(x), REF[name], c, tol);
    });

    it.each(threeWays(A.grad(losses[name])))("first derivative (%s)", (_, f) => {
      expectNear(`${name} d1`, f(x), REF[`${name}D1`], c, tol);
    });

    it.each(threeWays(hvpOf(losses[name])))("second derivative, as a Hessian-vector product (%s)", (_, f) => {
      expectNear(`${name} d2`, f(x), REF[`${name}D2`], c, tol);
    });

    it("compiled code gives the interpreter's bits", () => {
      for (const f of [fns[name], A.grad(losses[name]), hvpOf(losses[name])])
        expectSameBits(name, A.jit(f, QUIET)(x), A.jit(f, { ...QUIET, compile: false })(x));
    });
  });

  it("regression: logSoftmax([1e4, 1e4, −Inf]) is −log 2 to the dtype's precision, not rounded through 1e4 + log 2", () => {
    const row = T.tensor([[1e4, 1e4, -INF]], c.dtype);
    for (const [, f] of threeWays(fns.logSoftmax))
      expectNear("logSoftmax", f(row), [-Math.LN2, -Math.LN2, -INF], c, { rel: 4 });
  });
});

describe.each(DTYPES)("a fully masked row (all −Inf), $dtype: JAX's convention", (c) => {
  const x = T.tensor(
    [
      [-INF, -INF, -INF],
      [1, 2, -INF],
    ],
    c.dtype,
  );
  const rowOk = [1, 2, -INF];

  it("logSumExp is −Inf, softmax and logSoftmax are NaN, in the kernels, eagerly and under jit", () => {
    const expected = {
      lse: [-INF, lseRow(rowOk)],
      softmax: [NaN, NaN, NaN, ...pRow(rowOk)],
      logSoftmax: [NaN, NaN, NaN, ...logPRow(rowOk)],
    };
    expectNear("T.logSumExp", T.logSumExp(x, { axis: -1 }), expected.lse, c, { rel: 4 });
    expectNear("T.softmax", T.softmax(x), expected.softmax, c, { rel: 4 });
    expectNear("T.logSoftmax", T.logSoftmax(x), expected.logSoftmax, c, { rel: 4 });
    for (const [, f] of threeWays((v: Value) => A.logSumExp(v, { axis: -1 })))
      expectNear("logSumExp", f(x), expected.lse, c, { rel: 4 });
    for (const [, f] of threeWays((v: Value) => A.softmax(v)))
      expectNear("softmax", f(x), expected.softmax, c, { rel: 4 });
    for (const [, f] of threeWays((v: Value) => A.logSoftmax(v)))
      expectNear("logSoftmax", f(x), expected.logSoftmax, c, { rel: 4 });
  });

  it("the gradient through that row is NaN and every other row keeps its exact gradient", () => {
    for (const [, g] of threeWays(A.grad((v: Value) => A.sum(A.logSumExp(v, { axis: -1 }))))) {
      const got = values(g(x));
      expect(got.slice(0, 3).every(Number.isNaN)).toBe(true);
      expectNear("other row", T.tensor(got.slice(3), "float64"), pRow(rowOk), c, { rel: 8 });
    }
  });

  it("masking the input and the output (the double where) gives a finite gradient, 0 on the masked row", () => {
    const safeLse = (v: Value) => {
      const masked = A.logicalNot(A.isFinite(A.max(v, { axis: -1, keepDims: true })));
      const lse = A.logSumExp(A.where(masked, 0, v), { axis: -1, keepDims: true });
      return A.sum(A.where(masked, 0, lse));
    };
    for (const [, g] of threeWays(A.grad(safeLse)))
      expectNear("safe lse gradient", g(x), [0, 0, 0, ...pRow(rowOk)], c, { rel: 8 });
  });
});
