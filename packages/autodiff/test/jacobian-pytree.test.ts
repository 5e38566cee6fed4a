/**
 * @file jacrev, jacfwd and hessian over pytrees of arguments and outputs, with argnums and hasAux,
 * against central finite differences in float64 (an oracle that knows nothing of vmap or VJPs),
 * against each other, and under jit and vmap (their errors: jacobian-errors.test.ts).
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const filled = (shape: readonly number[], seed: number): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: T.sizeOf(shape) }, (_, i) => Math.sin(1.3 * i + seed) * 1.2),
    shape,
    "float64",
  );
type Fn = (...args: never[]) => unknown;
const call = (f: Fn, args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

const H = 1e-5;
/**
 * The Jacobian JAX's rules describe, from central differences: f's output structure, each output
 * leaf (shape O) replaced by argument n's structure (one per argnum, in an array for an array of
 * argnums) whose leaves (shape I) are blocks of shape [...O, ...I].
 */
const fdJacobian = (f: Fn, args: readonly unknown[], argnums: number | readonly number[]): unknown => {
  const [outLeaves, outDef] = A.treeFlatten(call(f, args));
  const nums = typeof argnums === "number" ? [argnums] : argnums;
  const perArg = nums.map((n) => {
    const [leaves, def] = A.treeFlatten(args[n]);
    const at = (j: number, e: number, delta: number): Float64Array[] => {
      const data = Float64Array.from((leaves[j] as T.Tensor).data);
      data[e]! += delta;
      const moved = leaves.map((l, i) => (i === j ? T.fromDataOrThrow(data, l.shape, "float64") : l));
      const shifted = args.map((a, i) => (i === n ? A.treeUnflatten(def, moved) : a));
      return A.treeLeaves(call(f, shifted)).map((t) => Float64Array.from((t as T.Tensor).data));
    };
    // blocks[k][j]: d out_k / d leaf_j, row-major over [...O, ...I].
    const blocks = outLeaves.map((y) => leaves.map((x) => new Float64Array(T.sizeOf(y.shape) * T.sizeOf(x.shape))));
    leaves.forEach((x, j) => {
      const size = T.sizeOf(x.shape);
      for (let e = 0; e < size; e++) {
        const [plus, minus] = [at(j, e, H), at(j, e, -H)];
        outLeaves.forEach((_, k) => {
          plus[k]!.forEach((p, o) => (blocks[k]![j]![o * size + e] = (p - minus[k]![o]!) / (2 * H)));
        });
      }
    });
    return { def, leaves, blocks };
  });
  return A.treeUnflatten(
    outDef,
    outLeaves.map((y, k) => {
      const trees = perArg.map(({ def, leaves, blocks }) =>
        A.treeUnflatten(
          def,
          leaves.map((x, j) => T.fromDataOrThrow(blocks[k]![j]!, [...y.shape, ...x.shape], "float64")),
        ),
      );
      return typeof argnums === "number" ? trees[0] : trees;
    }),
  );
};

/** Same structure, same leaf shapes, and every element within atol + rtol·|expected|. */
const expectTreeClose = (actual: unknown, expected: unknown, tol: number): void => {
  expect(A.treeDefKey(A.treeStructure(actual))).toBe(A.treeDefKey(A.treeStructure(expected)));
  const [as, es] = [A.treeLeaves(actual), A.treeLeaves(expected)];
  expect(as.length).toBe(es.length);
  as.forEach((a, i) => {
    const e = es[i]!;
    expect(a.shape).toEqual(e.shape);
    (a as T.Tensor).data.forEach((v, p) => {
      const want = (e as T.Tensor).data[p]!;
      if (!(Math.abs(v - want) <= tol * (1 + Math.abs(want)))) expect([i, p, v]).toEqual([i, p, want]);
    });
  });
};

/** Bit-for-bit equality of two pytrees of tensors. */
const expectTreeIdentical = (actual: unknown, expected: unknown): void => {
  expect(A.treeDefKey(A.treeStructure(actual))).toBe(A.treeDefKey(A.treeStructure(expected)));
  A.treeLeaves(actual).forEach((a, i) => {
    const e = A.treeLeaves(expected)[i]!;
    expect(a.shape).toEqual(e.shape);
    expect(Array.from((a as T.Tensor).data)).toEqual(Array.from((e as T.Tensor).data));
  });
};

const FD_TOL = 1e-7;

interface Params {
  readonly w: Value;
  readonly b: Value;
}
/** A record of a matrix and a vector, and a vector, into a record of a vector and a scalar. */
const layer = (p: Params, x: Value) => ({
  y: A.tanh(A.add(A.matmul(p.w, x), p.b)),
  s: A.mul(A.sum(A.mul(p.b, p.b)), A.sum(A.exp(x))),
});
const params = (m: number, n: number, seed = 0): Params => ({ w: filled([m, n], seed), b: filled([m], seed + 7) });

describe("jacrev and jacfwd over pytrees", () => {
  const p = params(3, 2);
  const x = filled([2], 3);

  it("of a record { w, b } into a record { y, s } match central differences, block by block", () => {
    const want = fdJacobian(layer, [p, x], 0);
    for (const jac of [A.jacrev(layer), A.jacfwd(layer)]) {
      const j = jac(p, x) as { y: { w: T.Tensor; b: T.Tensor }; s: { w: T.Tensor; b: T.Tensor } };
      // JAX's structure, spelt out: output keys outside, argument keys inside, blocks [...O, ...I].
      expect(j.y.w.shape).toEqual([3, 3, 2]);
      expect(j.y.b.shape).toEqual([3, 3]);
      expect(j.s.w.shape).toEqual([3, 2]);
      expect(j.s.b.shape).toEqual([3]);
      expectTreeClose(j, want, FD_TOL);
    }
  });

  it("with argnums [1, 0] give one tree per argnum, in argnums order", () => {
    const want = fdJacobian(layer, [p, x], [1, 0]);
    for (const jac of [A.jacrev(layer, { argnums: [1, 0] }), A.jacfwd(layer, { argnums: [1, 0] })]) {
      const j = jac(p, x) as { y: [T.Tensor, Params]; s: [T.Tensor, Params] };
      expect(j.y[0].shape).toEqual([3, 2]); // dy/dx
      expect(j.y[1].w.shape).toEqual([3, 3, 2]);
      expect(j.s[0].shape).toEqual([2]); // ds/dx
      expectTreeClose(j, want, FD_TOL);
    }
  });

  it("with argnums 1 (a number, also positionally) give the bare tensor block per output", () => {
    const want = fdJacobian(layer, [p, x], 1);
    expectTreeClose(A.jacrev(layer, { argnums: 1 })(p, x), want, FD_TOL);
    expectTreeClose(A.jacfwd(layer, 1)(p, x), want, FD_TOL);
    expectTreeClose(A.jacrev(layer, [1])(p, x), fdJacobian(layer, [p, x], [1]), FD_TOL);
  });

  it("of nested arrays into nested arrays match central differences", () => {
    type Nested = [Value, [Value, Value]];
    const g = (xs: Nested, scale: Value): [Value, [Value]] => {
      const [a, [b, c]] = xs;
      return [A.mul(A.sin(a), A.mul(c, scale)), [A.mul(A.matmul(a, b), A.exp(c))]];
    };
    const xs: Nested = [filled([2], 1), [filled([2, 3], 2), f64(0.4)]];
    const scale = f64(1.7);
    for (const argnums of [0, 1, [0, 1], [1, 0]] as const) {
      const want = fdJacobian(g, [xs, scale], argnums);
      expectTreeClose(A.jacrev(g, { argnums })(xs, scale), want, FD_TOL);
      expectTreeClose(A.jacfwd(g, { argnums })(xs, scale), want, FD_TOL);
    }
  });

  it("with one output element or one input element (no vmap needed) match central differences", () => {
    // One element of shape [1, 1] in and out: each transform's single-unit-vector case, at rank > 0.
    const g = (v: Value, s: Value) => A.mul(A.sum(A.mul(v, A.sin(v))), A.exp(s));
    const args = [filled([3], 2), filled([1, 1], 5)] as const;
    for (const argnums of [0, 1, [0, 1]] as const) {
      const want = fdJacobian(g, args, argnums);
      expectTreeClose(A.jacrev(g, argnums)(...args), want, FD_TOL);
      expectTreeClose(A.jacfwd(g, argnums)(...args), want, FD_TOL);
    }
    expect((A.jacfwd(g, 1)(...args) as T.Tensor).shape).toEqual([1, 1, 1, 1]);
  });

  it("accept int arguments that are not differentiated, and compose with grad", () => {
    // take(v, idx) picks v[idx]: d/dv is the one-hot rows; idx (int32) is outside argnums.
    const pick = (v: Value, idx: Value) => A.mul(A.take(v, idx), A.take(v, idx));
    const v = f64([0.5, -1, 2]);
    const idx = T.tensor([2, 0], "int32");
    expect(Array.from((A.jacrev(pick)(v, idx) as T.Tensor).data)).toEqual([0, 0, 4, 1, 0, 0]);
    expect(Array.from((A.jacfwd(pick)(v, idx) as T.Tensor).data)).toEqual([0, 0, 4, 1, 0, 0]);
    // d/dv Σ J(v) = d/dv (2 v_2 + 2 v_0) = [2, 0, 2]
    const g = A.grad((u: Value) => A.sum(A.jacrev(pick)(u, idx)))(v);
    expect(Array.from(g.data)).toEqual([2, 0, 2]);
  });

  it("keep static leaves of arguments and outputs as structure", () => {
    const g = (q: { v: Value; name: string }) => ({ out: A.mul(q.v, q.v), tag: q.name });
    const j = A.jacrev(g)({ v: f64([1, 2]), name: "q" }) as { out: { v: T.Tensor; name: string }; tag: string };
    expect(j.tag).toBe("q");
    expect(j.out.name).toBe("q");
    expect(Array.from(j.out.v.data)).toEqual([2, 0, 0, 4]);
  });

  test.prop(
    [
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom<number | readonly number[]>(0, 1, [0, 1], [1, 0]),
    ],
    { numRuns: 25 },
  )("at random shapes: jacrev = jacfwd to 1e-12, and both match central differences", (m, n, seed, argnums) => {
    const args = [params(m, n, seed), filled([n], seed + 1)];
    const rev = A.jacrev(layer, { argnums })(...(args as [Params, Value]));
    const fwd = A.jacfwd(layer, { argnums })(...(args as [Params, Value]));
    expectTreeClose(rev, fwd, 1e-12);
    expectTreeClose(rev, fdJacobian(layer, args, argnums), FD_TOL);
  });
});

describe("the single-tensor case is today's tensor", () => {
  it("jacrev/jacfwd of tanh(W x) equal diag(1 − tanh²(W x)) W, as one tensor", () => {
    const w = f64([
      [0.5, -1, 2],
      [1.5, 0.25, -0.75],
    ]);
    const x = f64([0.3, -0.2, 0.9]);
    const z = [0, 1].map((i) => [0, 1, 2].reduce((s, k) => s + w.data[i * 3 + k]! * x.data[k]!, 0));
    const want = [0, 1].flatMap((i) => [0, 1, 2].map((k) => (1 - Math.tanh(z[i]!) ** 2) * w.data[i * 3 + k]!));
    for (const jac of [
      A.jacrev((v: Value) => A.tanh(A.matmul(w, v))),
      A.jacfwd((v: Value) => A.tanh(A.matmul(w, v))),
    ]) {
      const j = jac(x);
      expectTypeOf(j).toEqualTypeOf<Value>();
      expect(T.isTensor(j)).toBe(true);
      expect(j.shape).toEqual([2, 3]);
      (j as T.Tensor).data.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-15));
    }
  });
});

describe("hessian over pytrees", () => {
  const m = f64([
    [1, -2, 0.5],
    [0.3, 2, -1],
  ]);
  const g = (a: Value, q: { u: Value }) =>
    A.add(A.sum(A.mul(A.matmul(a, m), q.u)), A.mul(A.sum(A.sin(a)), A.sum(A.mul(q.u, A.tanh(q.u)))));
  const a = f64([0.4, -0.9]);
  const q = { u: f64([0.2, 0.7, -1.1]) };

  it("of a scalar f of two arguments matches central differences of its gradient", () => {
    const gradient = (x: Value, y: { u: Value }) => A.grad(g, { argnums: [0, 1] })(x, y);
    const want = fdJacobian(gradient, [a, q], [0, 1]);
    const hs = A.hessian(g, { argnums: [0, 1] })(a, q) as [
      [T.Tensor, { u: T.Tensor }],
      { u: [T.Tensor, { u: T.Tensor }] },
    ];
    expectTreeClose(hs, want, FD_TOL);
    // ∂²/∂a∂u is [2, 3], ∂²/∂u∂a its transpose [3, 2]: the blocks are not swapped.
    expect(hs[0][1].u.shape).toEqual([2, 3]);
    expect(hs[1].u[0].shape).toEqual([3, 2]);
    const [au, ua] = [hs[0][1].u.data, hs[1].u[0].data];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 3; k++) expect(ua[k * 2 + i]).toBeCloseTo(au[i * 3 + k]!, 12);
  });

  it("of a non-scalar f is shaped [...O, ...I, ...I] (as JAX; it used to need a scalar)", () => {
    // f(v) = v ⊙ sin v: ∂²f_i/∂v_j∂v_k = δij δik (2 cos v_i − v_i sin v_i).
    const v = f64([0.3, -1.2]);
    const h = A.hessian((u: Value) => A.mul(u, A.sin(u)))(v) as T.Tensor;
    expect(h.shape).toEqual([2, 2, 2]);
    const want = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => {
      const [i, j, k] = [p >> 2, (p >> 1) & 1, p & 1];
      const x = v.data[i]!;
      return i === j && j === k ? 2 * Math.cos(x) - x * Math.sin(x) : 0;
    });
    h.data.forEach((got, p) => expect(Math.abs(got - want[p]!)).toBeLessThanOrEqual(1e-14));
  });

  it("with one argnum has that argument's structure twice", () => {
    const h = A.hessian(g, 1)(a, q) as { u: { u: T.Tensor } };
    expect(h.u.u.shape).toEqual([3, 3]);
    expectTreeClose(
      h,
      fdJacobian((x: Value, y: { u: Value }) => A.grad(g, { argnums: 1 })(x, y), [a, q], 1),
      FD_TOL,
    );
  });
});

describe("composition", () => {
  const p = params(3, 2, 4);
  const x = filled([2], 5);

  it("jit(jacrev(f)), jit(jacfwd(f)) and jit(hessian(f)) equal the eager result bit for bit, compiled or interpreted", () => {
    const scalar = (q: Params, v: Value) => A.sum(layer(q, v).y);
    const cases: Array<[Fn, Fn]> = [
      [A.jacrev(layer, { argnums: [0, 1] }), (q: Params, v: Value) => A.jacrev(layer, { argnums: [0, 1] })(q, v)],
      [A.jacfwd(layer), (q: Params, v: Value) => A.jacfwd(layer)(q, v)],
      [A.hessian(scalar, [0, 1]), (q: Params, v: Value) => A.hessian(scalar, [0, 1])(q, v)],
    ];
    for (const [eager, f] of cases) {
      const want = call(eager, [p, x]);
      for (const compile of [true, false])
        expectTreeIdentical(A.jit(f as (q: Params, v: Value) => unknown, { compile })(p, x), want);
    }
  });

  it("vmap(jacrev(f)) over a batch of x equals stacking jacrev(f) per example", () => {
    const xs = filled([4, 2], 9);
    for (const jac of [A.jacrev(layer, { argnums: [0, 1] }), A.jacfwd(layer, { argnums: [0, 1] })]) {
      const batched = A.vmap(jac, { inAxes: [null, 0] })(p, xs);
      const rows = [0, 1, 2, 3].map((b) => jac(p, A.reshape(A.slice(xs, [{ start: b, stop: b + 1 }]), [2])));
      const stacked = A.treeUnflatten(
        A.treeStructure(rows[0]),
        A.treeLeaves(rows[0]).map((_, i) => A.stack(rows.map((r) => A.treeLeaves(r)[i]!))),
      );
      expectTreeClose(batched, stacked, 1e-12);
    }
  });
});

describe("hasAux", () => {
  const p = params(2, 2, 1);
  const x = filled([2], 2);
  const withAux = (q: Params, v: Value) => {
    const out = layer(q, v);
    return [out, { norm: A.sum(A.mul(out.y, out.y)), steps: 3 }] as const;
  };

  it("returns [jacobian, aux] with the Jacobian of the first element only", () => {
    for (const [withA, without] of [
      [A.jacrev(withAux, { hasAux: true, argnums: [0, 1] }), A.jacrev(layer, { argnums: [0, 1] })],
      [A.jacfwd(withAux, { hasAux: true, argnums: [0, 1] }), A.jacfwd(layer, { argnums: [0, 1] })],
    ] as const) {
      const [jac, aux] = withA(p, x) as [unknown, { norm: T.Tensor; steps: number }];
      expectTreeIdentical(jac, without(p, x));
      expect(aux.steps).toBe(3);
      expect(Array.from(aux.norm.data)).toEqual(Array.from((withAux(p, x)[1].norm as T.Tensor).data));
    }
  });

  it("hessian with hasAux returns [hessian, aux]", () => {
    const f = (v: Value) => [A.sum(A.mul(v, A.mul(v, v))), A.mul(v, 2)] as const;
    const [h, aux] = A.hessian(f, { hasAux: true })(f64([1, 2]));
    expect(Array.from((h as T.Tensor).data)).toEqual([6, 0, 0, 12]);
    expect(Array.from((aux as T.Tensor).data)).toEqual([2, 4]);
  });

  it("types a tensor-to-tensor Jacobian as Value, and [Value, aux] with hasAux", () => {
    expectTypeOf(A.jacrev((v: Value) => A.sin(v))).returns.toEqualTypeOf<Value>();
    expectTypeOf(A.jacfwd((_: Value, v: Value) => A.sin(v), 1)).returns.toEqualTypeOf<Value>();
    expectTypeOf(A.hessian((v: Value) => [A.sum(v), 7] as const, { hasAux: true })).returns.toEqualTypeOf<[Value, 7]>();
    expectTypeOf(A.jacrev(layer)).returns.toEqualTypeOf<unknown>();
  });
});
