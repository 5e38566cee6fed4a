/**
 * @file stopGradient, checkpoint and customVjp: hand-checked values and gradients, and the errors
 * customVjp raises for misuse.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const data = (v: unknown): number[] => Array.from((v as T.Tensor).data);

describe("stopGradient", () => {
  it("is the identity on values", () => {
    expect(data(A.stopGradient(f64([1, -2])))).toEqual([1, -2]);
  });

  it("blocks the gradient: d/dx [sg(x)·x] = sg(x), not 2x", () => {
    expect(data(A.grad((x: Value) => A.sum(A.mul(A.stopGradient(x), x)))(f64([3, -1])))).toEqual([3, -1]);
  });

  it("blocks higher orders and forward mode too", () => {
    const f = (x: Value) => A.sum(A.mul(A.stopGradient(A.mul(x, x)), x));
    // f'(x) = sg(x²): the stop holds for every transform above it, so f'' = 0 (not 2x).
    expect(data(A.grad((x: Value) => A.sum(A.grad(f)(x)))(f64([2])))).toEqual([0]);
    const [, t] = A.jvp(A.stopGradient, [f64([1, 2])], [f64([5, 5])]);
    expect(data(t)).toEqual([0, 0]);
  });
});

describe("remat", () => {
  const body = (x: Value, w: Value) => A.tanh(A.mul(A.sin(x), w));
  const loss = (fn: typeof body) => (x: Value, w: Value) => A.sum(A.mul(fn(x, w), fn(x, w)));
  const x = f64([0.3, -1.2, 2]);
  const w = f64([1.5, 0.5, -0.7]);

  it("gives the same values and first and second gradients as the plain function", () => {
    const plain = loss(body);
    const remat = loss(A.remat(body));
    expect(data(remat(x, w))).toEqual(data(plain(x, w)));
    const [gx, gw] = A.grad(remat, { argnums: [0, 1] })(x, w) as T.Tensor[];
    const [px, pw] = A.grad(plain, { argnums: [0, 1] })(x, w) as T.Tensor[];
    data(gx).forEach((v, i) => expect(v).toBeCloseTo(data(px)[i]!, 14));
    data(gw).forEach((v, i) => expect(v).toBeCloseTo(data(pw)[i]!, 14));
    const h = A.hessian((v: Value) => remat(v, w))(x);
    const hp = A.hessian((v: Value) => plain(v, w))(x);
    data(h).forEach((v, i) => expect(v).toBeCloseTo(data(hp)[i]!, 12));
  });

  it("records one remat equation holding the body", () => {
    const text = A.printGraph(A.makeGraph(A.remat(body))(x, w));
    expect(text).toMatch(/= remat /);
    expect(text).not.toMatch(/checkpoint/);
    expect(text).toMatch(/body =\n/);
    expect(text).toMatch(/tanh/);
  });

  it("keeps checkpoint(f) as a deprecated alias: the same remat equation, errors naming checkpoint", () => {
    const old = A.checkpoint(body);
    expect(A.printGraph(A.makeGraph(old)(x, w))).toBe(A.printGraph(A.makeGraph(A.remat(body))(x, w)));
    expect(data(A.grad(loss(old))(x, w))).toEqual(data(A.grad(loss(A.remat(body)))(x, w)));
    expect(() => A.checkpoint(null as never)).toThrow(/^checkpoint: /);
    expect(() => A.remat(null as never)).toThrow(/^remat: /);
  });
});

describe("customVjp", () => {
  // The identity whose backward pass clips the cotangent to [−1, 1].
  const clipGradient = A.customVjp(
    (x: Value) => x,
    (x: Value) => [x, null] as const,
    (_res: null, g: Value) => [A.minimum(A.maximum(g, -1), 1)],
  );

  it("is used: values pass through, gradients are clipped", () => {
    const x = f64([1, 2, 3]);
    expect(data(clipGradient(x))).toEqual([1, 2, 3]);
    // Without the rule, d/dx Σ 10·x would be 10; the custom rule clips it to 1.
    expect(data(A.grad((v: Value) => A.sum(A.mul(clipGradient(v), f64([10, 0.5, -4]))))(x))).toEqual([1, 0.5, -1]);
  });

  it("uses residuals from fwd, and its rule written with ops differentiates again", () => {
    // softplus with a hand-written rule σ(x), saving x as the residual.
    const sp = A.customVjp(
      (x: Value) => A.log1p(A.exp(x)),
      (x: Value) => [A.log1p(A.exp(x)), x] as const,
      (x: Value, g: Value) => [A.mul(g, A.sigmoid(x))],
    );
    const x = f64([0.5]);
    const s = 1 / (1 + Math.exp(-0.5));
    expect(data(A.grad((v: Value) => A.sum(sp(v)))(x))[0]).toBeCloseTo(s, 15);
    expect(data(A.grad((v: Value) => A.sum(A.grad((u: Value) => A.sum(sp(u)))(v)))(x))[0]).toBeCloseTo(s * (1 - s), 15);
  });

  it("takes and returns pytrees: one cotangent pytree per argument", () => {
    type P = { readonly a: Value; readonly b: Value };
    const product = A.customVjp(
      (p: P) => ({ s: A.mul(p.a, p.b) }),
      (p: P) => [{ s: A.mul(p.a, p.b) }, p] as const,
      (p: P, ct: { s: Value }) => [{ a: A.mul(ct.s, p.b), b: A.mul(ct.s, p.a) }],
    );
    const g = A.grad((p: P) => A.sum(product(p).s))({ a: f64([1, 2]), b: f64([3, 4]) }) as { a: T.Tensor; b: T.Tensor };
    expect(data(g.a)).toEqual([3, 4]);
    expect(data(g.b)).toEqual([1, 2]);
  });

  it("throws naming the problem when f closes over a value being differentiated", () => {
    const x = f64([1, 2]);
    const run = () =>
      A.grad((w: Value) => {
        const scaled = A.customVjp(
          (v: Value) => A.mul(v, w),
          (v: Value) => [A.mul(v, w), null] as const,
          (_r: null, g: Value) => [g],
        );
        return A.sum(scaled(x));
      })(f64([3, 4]));
    expect(run).toThrow(A.GraphException);
    expect(run).toThrow(/closes over a value that is being differentiated/);
  });

  it("throws when bwd returns a cotangent of the wrong shape", () => {
    const bad = A.customVjp(
      (x: Value) => A.mul(x, 2),
      (x: Value) => [A.mul(x, 2), null] as const,
      () => [f64([1, 2, 3])],
    );
    expect(() => A.grad((x: Value) => A.sum(bad(x)))(f64([1, 2]))).toThrow(/does not match its argument/);
  });
});
