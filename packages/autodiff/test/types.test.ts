/**
 * @file Type-level tests (issue 18, "types that need no casts"): the transforms carry the
 * function's own argument and result types through, with `Tensor` where a call on tensors returns
 * tensors. `tsc -b` (run by `pnpm typecheck` and `.ci/run`) checks every `expectTypeOf` here;
 * before, `valueAndGrad`'s value and `jvp`'s outputs were `unknown` and `jit`'s results `Value`, so
 * `item(v as Tensor)` appeared in every script. The runtime assertions check the same calls'
 * values, so the file is not only types.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Concrete, Value } from "@rewind/autodiff";

interface Params {
  readonly w: Value;
  readonly b: readonly [Value, Value];
}
const params = { w: T.tensor([1, 2], "float64"), b: [T.scalar(3, "float64"), T.scalar(4, "float64")] as const };
const loss = (p: Params, x: Value): Value => A.sum(A.add(A.mul(p.w, x), A.add(p.b[0], p.b[1])));
const x = T.tensor([0.5, -1], "float64");

describe("Concrete", () => {
  it("turns every Value and Tracer of a pytree type into Tensor, keeping numbers, tuples and readonly", () => {
    expectTypeOf<Concrete<Value>>().toEqualTypeOf<Tensor>();
    expectTypeOf<Concrete<A.Tracer>>().toEqualTypeOf<Tensor>();
    expectTypeOf<Concrete<Params>>().toEqualTypeOf<{ readonly w: Tensor; readonly b: readonly [Tensor, Tensor] }>();
    expectTypeOf<Concrete<[Value, number, string]>>().toEqualTypeOf<[Tensor, number, string]>();
    expectTypeOf<Concrete<{ n: number; f: (v: Value) => Value }>>().toEqualTypeOf<{
      n: number;
      f: (v: Value) => Value;
    }>();
  });
});

describe("on tensors, the transforms return tensors", () => {
  it("jit", () => {
    const y = A.jit(loss)(params, x);
    expectTypeOf(y).toEqualTypeOf<Tensor>();
    // Σ (w ⊙ x + b₀ + b₁) = (0.5 − 2) + 2 · 7.
    expect(T.item(y)).toBe(12.5);
  });
  it("vmap, remat and checkpoint keep f's types: tensors in, tensors out, pytrees leaf by leaf", () => {
    const batched = A.vmap((p: Params, v: Value) => ({ y: loss(p, v), n: 2 }), { inAxes: [null, 0] });
    const out = batched(
      params,
      T.tensor(
        [
          [0.5, -1],
          [1, 1],
        ],
        "float64",
      ),
    );
    expectTypeOf(out).toEqualTypeOf<{ y: Tensor; n: number }>();
    expect([...out.y.data]).toEqual([12.5, 17]);
    const r = A.remat(loss)(params, x);
    expectTypeOf(r).toEqualTypeOf<Tensor>();
    expectTypeOf(A.checkpoint(loss)(params, x)).toEqualTypeOf<Tensor>();
    // jit of a vmap (the README's per-example gradients) is a Tensor too.
    const perExample = A.jit(
      A.vmap(
        A.grad((w: Value, v: Value) => A.sum(A.mul(w, v))),
        { inAxes: [null, 0] },
      ),
    );
    const gs = perExample(
      x,
      T.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        "float64",
      ),
    );
    expectTypeOf(gs).toEqualTypeOf<Tensor>();
    expect([...gs.data]).toEqual([1, 2, 3, 4]);
    expect(T.item(r)).toBe(12.5);
  });
  it("scan: on tensors the final carry and the stacked outputs are tensors", () => {
    const [total, prefix] = A.scan((c: Value, v: Value): [Value, Value] => [A.add(c, v), c], T.scalar(0, "float64"), x);
    expectTypeOf(total).toEqualTypeOf<Tensor>();
    expectTypeOf(prefix).toEqualTypeOf<Tensor>();
    const [carry] = A.scan(
      (c: { n: Value }, v: Value): [{ n: Value }, null] => [{ n: A.add(c.n, v) }, null],
      {
        n: T.scalar(1, "float64"),
      },
      x,
    );
    expectTypeOf(carry).toEqualTypeOf<{ n: Tensor }>();
    expect([T.item(total), ...prefix.data, T.item(carry.n)]).toEqual([-0.5, 0, 0.5, 0.5]);
  });
  it("valueAndGrad: the value is f's result and the gradient has the argument's structure", () => {
    const [value, g] = A.valueAndGrad(loss)(params, x);
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(g).toEqualTypeOf<Concrete<Params>>();
    // ∂/∂w = x; ∂/∂b₀ = 2 (b₀ is broadcast over both entries).
    expect([T.item(value), ...g.w.data, T.item(g.b[0])]).toEqual([12.5, 0.5, -1, 2]);
  });
  it("valueAndGrad and grad with argnums and hasAux: tuples of gradients, the aux typed from f", () => {
    const withAux = (p: Params, v: Value): [Value, { readonly count: number; readonly y: Value }] => [
      loss(p, v),
      { count: 2, y: A.mul(v, 2) },
    ];
    const [[value, aux], [gp, gx]] = A.valueAndGrad(withAux, { hasAux: true, argnums: [0, 1] })(params, x);
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(aux).toEqualTypeOf<{ readonly count: number; readonly y: Tensor }>();
    expectTypeOf(gp).toEqualTypeOf<Concrete<Params>>();
    expectTypeOf(gx).toEqualTypeOf<Tensor>();
    const [g, aux2] = A.grad(withAux, { hasAux: true })(params, x);
    expectTypeOf(g).toEqualTypeOf<Concrete<Params>>();
    expectTypeOf(aux2.y).toEqualTypeOf<Tensor>();
    expect([...gx.data, aux.count, ...aux2.y.data]).toEqual([1, 2, 2, 1, -2]);
  });
  it("grad of a one-argument function", () => {
    const g = A.grad((v: Value) => A.sum(A.mul(v, v)))(x);
    expectTypeOf(g).toEqualTypeOf<Tensor>();
    expect([...g.data]).toEqual([1, -2]);
  });
  it("vjp: the output and the pullback's cotangents", () => {
    const [y, pullback] = A.vjp((v: Value) => ({ y: A.mul(v, 3) }), x);
    expectTypeOf(y).toEqualTypeOf<{ y: Tensor }>();
    const [ct] = pullback({ y: T.tensor([1, 1], "float64") });
    expectTypeOf(ct).toEqualTypeOf<Tensor>();
    expect([...ct.data]).toEqual([3, 3]);
  });
  it("jvp: the output and its tangent", () => {
    const [y, ty] = A.jvp((v: Value) => A.mul(v, v), [x], [T.tensor([1, 0], "float64")]);
    expectTypeOf(y).toEqualTypeOf<Tensor>();
    expectTypeOf(ty).toEqualTypeOf<Tensor>();
    // d(v²) = 2v·t: [2 · 0.5 · 1, 2 · (−1) · 0] (the second is −0).
    expect([...ty.data]).toEqual([1, -0]);
  });
});

describe("on traced values (inside another transform), they return traced values", () => {
  it("jit and grad called with a Value give Value, so nesting type-checks without casts", () => {
    const inner = A.jit(loss);
    const outer = A.grad((p: Params) => {
      const y = inner(p, x);
      expectTypeOf(y).toEqualTypeOf<Value>();
      expectTypeOf(A.vmap(loss, { inAxes: [null, 0] })(p, A.stack([x, x], 0))).toEqualTypeOf<Value>();
      expectTypeOf(A.remat(loss)(p, x)).toEqualTypeOf<Value>();
      expectTypeOf(A.scan((c: Value, v: Value): [Value, Value] => [A.add(c, v), c], p.w, x)[0]).toEqualTypeOf<Value>();
      return y;
    });
    const g = outer(params);
    expectTypeOf(g).toEqualTypeOf<Concrete<Params>>();
    expect([...g.w.data]).toEqual([0.5, -1]);
  });
});
