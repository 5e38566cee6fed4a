/**
 * @file Elementwise ops at extreme inputs: sigmoid, softplus, tanh, log1p and expm1 (and the
 * log-sigmoid users build as −softplus(−x)) stay finite and accurate for |x| up to 1e4, with their
 * first and second derivatives, in float32 and float64, through the tensor kernels, eager autodiff
 * ops, `jit` on the interpreter and `jit` compiled (whose fused loops must use the same stable
 * formulas). References are float64 closed forms written here (see numerical-edges.support.ts).
 *
 * Known limits, asserted as such: σ'(x) = σ(x)(1 − σ(x)) and tanh'(x) = 1 − tanh²(x) are computed
 * from the rounded output (as in JAX and PyTorch), so in the saturated tail they are accurate to an
 * absolute eps, not relatively (σ'(20) is 2e-9 but float32's σ(20) is exactly 1, giving 0).
 * Regression: expm1's gradient was (expm1(x) + 1), which cancels to 0 for x < −17 in float32
 * (x < −37 in float64) although e^x is a normal number; it is now e^x.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import {
  DTYPES,
  expectNear,
  expectSameBits,
  QUIET,
  sech2,
  sigmoidD1,
  sigmoidD2,
  sigmoidRef,
  softplusRef,
  threeWays,
  values,
  type Tol,
} from "./numerical-edges.support.js";

const WIDE = [-1e4, -1000, -710, -100, -88, -40, -20, -5, -1, -1e-8, 0, 1e-8, 1, 5, 20, 40, 88, 100, 710, 1000, 1e4];
/** log1p's domain is x > −1: from just above −1 up to 1e4. */
const LOG1P = [-1 + 2 ** -20, -0.5, -1e-8, 0, 1e-8, 1, 100, 1e4];

interface UnaryCase {
  readonly name: string;
  readonly op: (x: Value) => Value;
  readonly kernel: (x: T.Tensor) => T.Tensor;
  readonly xs: readonly number[];
  readonly ref: (x: number) => number;
  readonly d1: (x: number) => number;
  readonly d2: (x: number) => number;
  /** Tolerance of the value, first and second derivative at x (regions explained per op). */
  readonly tol: (order: 0 | 1 | 2, x: number) => Tol;
}

const CASES: readonly UnaryCase[] = [
  {
    name: "sigmoid",
    op: A.sigmoid,
    kernel: T.sigmoid,
    xs: WIDE,
    ref: sigmoidRef,
    d1: sigmoidD1,
    d2: sigmoidD2,
    // Relative everywhere left of 0 (σ ≈ e^x, 1 − σ ≈ 1). Right of 0 the derivatives use 1 − σ
    // of the rounded σ: absolute eps (the limit named in the file comment); near 0, σ'' ≈ −x/8
    // is the difference of two ≈ 1/8 terms, again absolute.
    tol: (order, x) => (order === 0 || x <= -1 ? { rel: 32 } : { rel: 32, abs: 4 }),
  },
  {
    name: "softplus",
    op: A.softplus,
    kernel: T.softplus,
    xs: WIDE,
    ref: softplusRef,
    d1: sigmoidRef,
    d2: sigmoidD1,
    // The value and σ (its derivative, computed by the stable sigmoid kernel) are relatively
    // accurate in both tails; the second derivative is σ's VJP, with sigmoid's limits.
    tol: (order, x) => (order < 2 || x <= -1 ? { rel: 16 } : { rel: 32, abs: 4 }),
  },
  {
    name: "tanh",
    op: A.tanh,
    kernel: T.tanh,
    xs: WIDE,
    ref: Math.tanh,
    d1: sech2,
    d2: (x) => -2 * Math.tanh(x) * sech2(x),
    // 1 − tanh² is relative only where tanh is far from ±1.
    tol: (order, x) => (order === 0 || Math.abs(x) <= 1 ? { rel: 32 } : { rel: 32, abs: 8 }),
  },
  {
    name: "log1p",
    op: A.log1p,
    kernel: T.log1p,
    xs: LOG1P,
    ref: Math.log1p,
    d1: (x) => 1 / (1 + x),
    d2: (x) => -1 / ((1 + x) * (1 + x)),
    tol: () => ({ rel: 16 }),
  },
  {
    name: "expm1",
    op: A.expm1,
    kernel: T.expm1,
    xs: WIDE,
    ref: Math.expm1,
    d1: Math.exp,
    d2: Math.exp,
    // Relative everywhere, both tails: the regression this file keeps (see the file comment).
    tol: () => ({ rel: 16 }),
  },
];

const sumOf =
  (op: (x: Value) => Value) =>
  (x: Value): Value =>
    A.sum(op(x));
const d1Of = (op: (x: Value) => Value) => A.grad(sumOf(op));
const d2Of = (op: (x: Value) => Value) => A.grad((x: Value) => A.sum(d1Of(op)(x)));

describe.each(DTYPES)("unary ops at extreme inputs, $dtype", (c) => {
  describe.each(CASES)("$name", (u) => {
    const x = T.tensor([...u.xs], c.dtype);
    // The references use the inputs as the dtype holds them (1e-8 is not a float32).
    const xv = values(x);
    const near = (label: string, got: unknown, ref: (v: number) => number, order: 0 | 1 | 2) =>
      expectNear(`${u.name} ${label}`, got, xv.map(ref), c, (i) => u.tol(order, xv[i]!), xv);

    it("the tensor kernel matches the reference", () => {
      near("kernel", u.kernel(x), u.ref, 0);
    });

    it.each(threeWays(u.op))("the value through autodiff (%s)", (_, f) => {
      near("value", f(x), u.ref, 0);
    });

    it.each(threeWays(d1Of(u.op)))("the first derivative (%s)", (_, f) => {
      near("d/dx", f(x), u.d1, 1);
    });

    it.each(threeWays(d2Of(u.op)))("the second derivative (%s)", (_, f) => {
      near("d²/dx²", f(x), u.d2, 2);
    });

    it("compiled code gives the interpreter's bits for the value and both derivatives", () => {
      for (const [label, f] of [
        ["value", u.op],
        ["d1", d1Of(u.op)],
        ["d2", d2Of(u.op)],
      ] as const) {
        expectSameBits(`${u.name} ${label}`, A.jit(f, QUIET)(x), A.jit(f, { ...QUIET, compile: false })(x));
      }
    });
  });

  it("fused compiled loops keep the stable forms: σ(s·x), softplus(s·x) and log σ = −softplus(−x)", () => {
    // Multiplying by a traced scale keeps each chain one fused elementwise loop (no constant folding).
    const s = T.ones([WIDE.length], c.dtype);
    const x = T.tensor(WIDE, c.dtype);
    const xv = values(x);
    const chains = [
      ["sigmoid", (v: Value, k: Value) => A.sigmoid(A.mul(v, k)), sigmoidRef, { rel: 32 }],
      ["softplus", (v: Value, k: Value) => A.softplus(A.mul(v, k)), softplusRef, { rel: 32 }],
      [
        "log-sigmoid",
        (v: Value, k: Value) => A.neg(A.softplus(A.neg(A.mul(v, k)))),
        (v: number) => -softplusRef(-v),
        { rel: 32 },
      ],
    ] as const;
    for (const [name, f, ref, tol] of chains) {
      const got = A.jit(f, QUIET)(x, s);
      expectNear(`fused ${name}`, got, xv.map(ref), c, tol, xv);
      expectSameBits(`fused ${name}`, got, A.jit(f, { ...QUIET, compile: false })(x, s));
      // Its fused backward loop: d/dx of Σ f(s·x) at s = 1 is f'(x).
      const g = A.jit(
        A.grad((v: Value, k: Value) => A.sum(f(v, k))),
        QUIET,
      )(x, s);
      expect(values(g).every(Number.isFinite), `fused ${name} gradient is finite`).toBe(true);
      expectSameBits(
        `fused ${name} gradient`,
        g,
        A.jit(
          A.grad((v: Value, k: Value) => A.sum(f(v, k))),
          { ...QUIET, compile: false },
        )(x, s),
      );
    }
    // log σ's gradient is σ(−x), relatively accurate in both tails.
    const lsg = A.jit(A.grad((v: Value, k: Value) => A.sum(A.neg(A.softplus(A.neg(A.mul(v, k)))))))(x, s);
    expectNear(
      "fused log-sigmoid gradient",
      lsg,
      xv.map((v) => sigmoidRef(-v)),
      c,
      { rel: 32 },
      xv,
    );
  });
});
