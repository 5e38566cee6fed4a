import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { add, exp, grad, jvp, makeGraph, mul, printGraph, scan, sum, tanh, hessian, jacrev, matmul, valueAndGrad } from "../src/index.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");

describe("smoke", () => {
  it("grad of x^2", () => {
    const g = grad((x: any) => sum(mul(x, x)))(t([1, 2, 3])) as T.Tensor;
    expect(Array.from(g.data)).toEqual([2, 4, 6]);
  });
  it("grad of grad", () => {
    const f = (x: any) => mul(x, mul(x, x));
    const g2 = grad((x: any) => grad(f)(x) as any)(t(2)) as T.Tensor;
    expect(g2.data[0]).toBeCloseTo(12);
  });
  it("jvp", () => {
    const [y, ty] = jvp((x: any) => exp(x), [t([0, 1])], [t([1, 2])]) as [T.Tensor, T.Tensor];
    expect(Array.from(ty.data)).toEqual([1, 2 * Math.E]);
  });
  it("scan grad", () => {
    const f = (h0: any, xs: any) => {
      const [h, ys] = scan((h: any, x: any) => { const n = tanh(add(mul(h, 0.5), x)); return [n, n] as const; }, h0, xs);
      return sum(ys);
    };
    const xs = t([[0.1], [0.2], [0.3]]);
    const h0 = t([0.5]);
    const g = grad(f, { argnums: [0, 1] })(h0, xs) as T.Tensor[];
    // finite differences
    const eps = 1e-6;
    const fd = (a: number) => { const p = f(t([0.5 + eps]), xs) as T.Tensor; const m = f(t([0.5 - eps]), xs) as T.Tensor; return (p.data[0]! - m.data[0]!) / (2 * eps); };
    expect(g[0]!.data[0]).toBeCloseTo(fd(0), 6);
    console.log(printGraph(makeGraph((h: any) => grad(f)(h, xs))(h0)));
  });
  it("hessian", () => {
    const h = hessian((x: any) => sum(mul(x, mul(x, x))))(t([1, 2])) as T.Tensor;
    expect(Array.from(h.data)).toEqual([6, 0, 0, 12]);
  });
  it("matmul grad", () => {
    const a = t([[1, 2], [3, 4]]);
    const [v, g] = valueAndGrad((a: any) => sum(matmul(a, a)))(a) as [T.Tensor, T.Tensor];
    expect(v.data[0]).toBe(7 + 10 + 15 + 22);
  });
});
