/**
 * @file Hand-checked cases for the differentiation transforms: grad/valueAndGrad (argnums, hasAux,
 * pytree arguments), vjp with pytree outputs, jvp, jacrev/jacfwd/hessian against analytic
 * derivatives, and the compositions grad∘grad and jvp∘grad (Hessian-vector products).
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { List, Map as IMap, Record as IRecord } from "immutable";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const data = (v: unknown): number[] => Array.from((v as T.Tensor).data);

/** Elementwise |a − b| ≤ 1e-12 + 1e-12·|b|, with shapes equal. */
const expectClose = (actual: unknown, expected: T.NestedArray): void => {
  const a = actual as T.Tensor;
  const e = f64(expected);
  expect(a.shape).toEqual(e.shape);
  a.data.forEach((x, i) => expect(Math.abs(x - e.data[i]!)).toBeLessThanOrEqual(1e-12 + 1e-12 * Math.abs(e.data[i]!)));
};

const sumSquares = (x: Value): Value => A.sum(A.mul(x, x));

describe("grad and valueAndGrad", () => {
  it("differentiate Σ x² to 2x and return the value", () => {
    const [value, g] = A.valueAndGrad(sumSquares)(f64([1, -2, 3]));
    expectClose(value, 14);
    expectClose(g, [2, -4, 6]);
    expectClose(A.grad(sumSquares)(f64([0.5])), [1]);
  });

  it("take argnums as a number (one gradient) or an array (a tuple, in argnums order)", () => {
    // f(x, y) = Σ x·y²: ∂x = y², ∂y = 2xy.
    const f = (x: Value, y: Value) => A.sum(A.mul(x, A.mul(y, y)));
    const x = f64([1, 2]);
    const y = f64([3, -1]);
    expectClose(A.grad(f, { argnums: 1 })(x, y), [6, -4]);
    const [gy, gx] = A.grad(f, { argnums: [1, 0] })(x, y);
    expectClose(gy, [6, -4]);
    expectClose(gx, [9, 1]);
    expect(() => A.grad(f, { argnums: 2 })(x, y)).toThrow(/argnums/);
  });

  it("with hasAux return the aux untouched and differentiate only the value", () => {
    const f = (x: Value) => [sumSquares(x), { doubled: A.mul(x, 2), note: "kept" }] as const;
    const [[value, aux], g] = A.valueAndGrad(f, { hasAux: true })(f64([1, 2])) as [
      [T.Tensor, { doubled: T.Tensor; note: string }],
      T.Tensor,
    ];
    expectClose(value, 5);
    expectClose(aux.doubled, [2, 4]);
    expect(aux.note).toBe("kept");
    expectClose(g, [2, 4]);
    const [g2, aux2] = A.grad(f, { hasAux: true })(f64([3])) as [T.Tensor, { doubled: T.Tensor }];
    expectClose(g2, [6]);
    expectClose(aux2.doubled, [6]);
  });

  it("report a tracer that leaks out of the transform that made it", () => {
    let leaked: Value | undefined;
    A.grad((x: Value) => {
      leaked = x;
      return A.sum(x);
    })(f64([1]));
    expect(() => A.mul(leaked!, 2)).toThrow(
      /mul: a traced value f64\[1\] was used after the transform that created it returned/,
    );
  });

  it("reject a non-scalar output with NonScalarOutput", () => {
    const run = () => A.grad((x: Value) => A.mul(x, 2))(f64([1, 2]));
    expect(run).toThrow(A.GraphException);
    expect(run).toThrow(/scalar/);
  });

  it("differentiate object and array pytrees, keeping structure, statics and zero int leaves", () => {
    const params = {
      w: f64([
        [1, 2],
        [3, 4],
      ]),
      b: [f64([0.5, -0.5])],
      steps: T.tensor([3], "int32"),
      name: "layer",
    };
    const loss = (p: typeof params) => A.sum(A.add(A.matmul(f64([1, 1]), p.w), p.b[0]!));
    const g = A.grad(loss)(params);
    expectClose(g.w, [
      [1, 1],
      [1, 1],
    ]);
    expectClose(g.b[0], [1, 1]);
    // Integer leaves are not differentiated: their gradient is zeros of their own dtype.
    expect(g.steps.dtype).toBe("int32");
    expect(data(g.steps)).toEqual([0]);
    expect(g.name).toBe("layer");
  });

  it("differentiate Immutable Map, List and Record pytrees into the same kinds", () => {
    const Layer = IRecord({ w: f64([0]), b: f64([0]) });
    const tree = IMap({ a: f64([2]), b: List([f64([3]), f64([4])]) });
    const layer = Layer({ w: f64([5]), b: f64([7]) });
    const loss = (t: typeof tree, l: typeof layer) => {
      const list = t.get("b") as List<Value>;
      // Σ a² + b0·b1 + w·b
      return A.sum(A.add(A.add(A.mul(t.get("a"), t.get("a")), A.mul(list.get(0)!, list.get(1)!)), A.mul(l.w, l.b)));
    };
    const [gt, gl] = A.grad(loss, { argnums: [0, 1] })(tree, layer);
    expect(IMap.isMap(gt)).toBe(true);
    expectClose(gt.get("a"), [4]);
    const gList = gt.get("b") as List<Value>;
    expect(List.isList(gList)).toBe(true);
    expectClose(gList.get(0), [4]);
    expectClose(gList.get(1), [3]);
    expect(IRecord.isRecord(gl)).toBe(true);
    expectClose(gl.w, [7]);
    expectClose(gl.b, [5]);
  });
});

describe("vjp", () => {
  it("pulls back pytree cotangents of pytree outputs", () => {
    // f(x, y) = { p: x·y, q: [sin x] }: ∂x = ct.p·y + ct.q[0]·cos x, ∂y = ct.p·x.
    const f = (x: Value, y: Value) => ({ p: A.mul(x, y), q: [A.sin(x)] });
    const x = f64([0.5, 1]);
    const y = f64([2, 3]);
    const [out, pullback] = A.vjp(f, x, y);
    const o = out;
    expectClose(o.p, [1, 3]);
    expectClose(o.q[0], [Math.sin(0.5), Math.sin(1)]);
    const [cx, cy] = pullback({ p: f64([1, 10]), q: [f64([2, 0])] });
    expectClose(cx, [1 * 2 + 2 * Math.cos(0.5), 10 * 3]);
    expectClose(cy, [0.5, 10]);
  });

  it("rejects a cotangent whose structure or shape differs from the output", () => {
    const [, pullback] = A.vjp((x: Value) => ({ p: A.mul(x, 2) }), f64([1, 2]));
    expect(() => pullback([f64([1, 1])] as never)).toThrow(/structure/);
    expect(() => pullback({ p: f64([1, 1, 1]) })).toThrow(/ct\.p/);
  });
});

describe("forward mode and Jacobians", () => {
  // f: R² → R³, f(x) = [x0·x1, sin x0, x1²]; J = [[x1, x0], [cos x0, 0], [0, 2 x1]].
  const f = (x: Value): Value => {
    const [x0, x1] = A.split(x, 2);
    return A.concat([A.mul(x0!, x1!), A.sin(x0!), A.mul(x1!, x1!)]);
  };
  const x = f64([0.3, -2]);
  const jacobian = [
    [-2, 0.3],
    [Math.cos(0.3), 0],
    [0, -4],
  ];

  it("jvp gives f(x) and J·v", () => {
    const [y, t] = A.jvp(f, [x], [f64([1, 2])]);
    expectClose(y, [-0.6, Math.sin(0.3), 4]);
    expectClose(t, [-2 + 0.6, Math.cos(0.3), -8]);
  });

  it("jvp accepts pytrees of primals and tangents", () => {
    const g = (p: { a: Value; b: Value }) => A.mul(p.a, A.exp(p.b));
    const [, t] = A.jvp(g, [{ a: f64([2]), b: f64([0]) }], [{ a: f64([1]), b: f64([3]) }]);
    // d(a·e^b) = e^b da + a e^b db = 1 + 2·3
    expectClose(t, [7]);
  });

  it("jacrev and jacfwd equal the analytic Jacobian, shaped [...out, ...in]", () => {
    expectClose(A.jacrev(f)(x), jacobian);
    expectClose(A.jacfwd(f)(x), jacobian);
    // A matrix input: d(W v)/dW has shape [2, 2, 3] with entries v_k δ_ij.
    const v = f64([1, 2, 3]);
    const jw = A.jacrev((w: Value) => A.matmul(w, v))(
      f64([
        [0, 0, 0],
        [0, 0, 0],
      ]),
    );
    expectClose(jw, [
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      [
        [0, 0, 0],
        [1, 2, 3],
      ],
    ]);
  });

  it("hessian equals the analytic Hessian", () => {
    // h(x) = x0² x1 + sin x1: H = [[2 x1, 2 x0], [2 x0, −sin x1]].
    const h = (v: Value) => {
      const [x0, x1] = A.split(v, 2);
      return A.sum(A.add(A.mul(A.mul(x0!, x0!), x1!), A.sin(x1!)));
    };
    expectClose(A.hessian(h)(f64([1.5, 0.5])), [
      [1, 3],
      [3, -Math.sin(0.5)],
    ]);
  });

  it("grad(grad(f)) is the second derivative", () => {
    // f(x) = x³ sin x: f'' = 6x sin x + 6x² cos x − x³ sin x.
    const f3 = (v: Value) => A.sum(A.mul(A.mul(v, A.mul(v, v)), A.sin(v)));
    const second = A.grad((v: Value) => A.sum(A.grad(f3)(v)))(f64([0.7]));
    const s = 0.7;
    expectClose(second, [6 * s * Math.sin(s) + 6 * s * s * Math.cos(s) - s ** 3 * Math.sin(s)]);
  });

  it("jvp of grad is the Hessian-vector product", () => {
    // f(x) = Σ exp(x0) x1² → ∇f = [e^x0 x1², 2 e^x0 x1], H = [[e^x0 x1², 2 e^x0 x1], [2 e^x0 x1, 2 e^x0]].
    const f = (v: Value) => {
      const [x0, x1] = A.split(v, 2);
      return A.sum(A.mul(A.exp(x0!), A.mul(x1!, x1!)));
    };
    const at = f64([0.2, -1.5]);
    const dir = f64([1, -2]);
    const [g, hv] = A.jvp((v: Value) => A.grad(f)(v), [at], [dir]);
    const e = Math.exp(0.2);
    expectClose(g, [e * 2.25, 2 * e * -1.5]);
    expectClose(hv, [e * 2.25 * 1 + 2 * e * -1.5 * -2, 2 * e * -1.5 * 1 + 2 * e * -2]);
  });
});

describe("gradient types", () => {
  it("a gradient has its argument's type; argnums arrays give tuples; hasAux gives [grads, aux]", () => {
    const x = T.tensor([1, 2], "float64");
    const params = { w: x, b: x };
    const loss = (p: typeof params, y: T.Tensor): A.Value => A.sum(A.mul(A.add(p.w, p.b), y));
    const g = A.grad(loss)(params, x);
    expectTypeOf(g).toEqualTypeOf<typeof params>();
    const both = A.grad(loss, { argnums: [0, 1] })(params, x);
    expectTypeOf(both).toEqualTypeOf<[typeof params, T.Tensor]>();
    const second = A.grad(loss, { argnums: 1 })(params, x);
    expectTypeOf(second).toEqualTypeOf<T.Tensor>();
    const [ga, aux] = A.grad((p: typeof params) => [loss(p, x), 3] as const, { hasAux: true })(params);
    expectTypeOf(ga).toEqualTypeOf<typeof params>();
    expect(aux).toBe(3);
    expect(Array.from(g.w.data)).toEqual([1, 2]);
    expect(Array.from(both[1].data)).toEqual([2, 4]);
    expect(Array.from(second.data)).toEqual([2, 4]);
  });
});
