/**
 * @file The cumulative ops beyond the shared tables: gradients at zeros (cumprod), at ties
 * (cummax/cummin) and at ±1000 and −Inf (logcumsumexp) against naive float64 formulas; eager ==
 * jit compiled == jit interpreted bit for bit, values and gradients, float32 and float64; errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectBits, expectInvariant } from "./compileSupport.js";

const f64 = (d: readonly number[]) => T.fromDataOrThrow(d, [d.length], "float64");
const data = (v: unknown) => Array.from((v as T.Tensor).data);
type CumOp = (x: Value, o?: A.CumulativeOptions) => Value;
const ops: Readonly<Record<string, CumOp>> = {
  cumsum: A.cumsum,
  cumprod: A.cumprod,
  cummax: A.cummax,
  cummin: A.cummin,
  logcumsumexp: A.logcumsumexp,
};

/** ∇ of Σ_j g_j · op(x)_j (one axis, forward). */
const gradOf = (op: CumOp, x: T.Tensor, g: T.Tensor, o: A.CumulativeOptions = {}) =>
  A.grad((v: Value) => A.sum(A.mul(op(v, o), g)))(x);

describe("cumprod: gradients with zeros", () => {
  // dx_i = Σ_{j≥i} g_j Π_{k≤j, k≠i} x_k, straight from the definition.
  const naiveGrad = (x: readonly number[], g: readonly number[]) =>
    x.map((_, i) => {
      let s = 0;
      for (let j = i; j < x.length; j++) {
        let p = 1;
        for (let k = 0; k <= j; k++) if (k !== i) p *= x[k]!;
        s += g[j]! * p;
      }
      return s;
    });
  // H_ab = Σ_{j≥max(a,b)} g_j Π_{k≤j, k∉{a,b}} x_k for a ≠ b, 0 on the diagonal.
  const naiveHessianTimes = (x: readonly number[], g: readonly number[], v: readonly number[]) =>
    x.map((_, a) =>
      x.reduce((acc, _x, b) => {
        if (a === b) return acc;
        let s = 0;
        for (let j = Math.max(a, b); j < x.length; j++) {
          let p = 1;
          for (let k = 0; k <= j; k++) if (k !== a && k !== b) p *= x[k]!;
          s += g[j]! * p;
        }
        return acc + s * v[b]!;
      }, 0),
    );

  const cases: ReadonlyArray<readonly number[]> = [
    [2, 0, 3, -1.5, 0.5],
    [0, 0, 2, 3, 4],
    [1.5, 2, 0, 3, 0, 0.5, 0],
    [0],
    [3, -2, 0.25, 4, 1.5, -0.5, 2],
  ];
  for (const x of cases) {
    it(`first and second order at [${x.join(", ")}], both directions`, () => {
      const g = x.map((_, i) => 0.5 + 0.25 * i);
      const v = x.map((_, i) => (i % 2 === 0 ? 1 : -0.5));
      for (const reverse of [false, true]) {
        const xs = reverse ? [...x].reverse() : x;
        const gs = reverse ? [...g].reverse() : g;
        const vs = reverse ? [...v].reverse() : v;
        const flipBack = (r: number[]) => (reverse ? r.reverse() : r);
        const got = data(gradOf(A.cumprod, f64(x), f64(g), { reverse }));
        const want = flipBack(naiveGrad(xs, gs));
        got.forEach((d, i) => expect(d).toBeCloseTo(want[i]!, 12));
        // Hessian-vector product: ∇ of ⟨∇f, v⟩.
        const hv = A.grad((u: Value) =>
          A.sum(A.mul(A.grad((w: Value) => A.sum(A.mul(A.cumprod(w, { reverse }), f64(g))))(u), f64(v))),
        )(f64(x));
        const wantHv = flipBack(naiveHessianTimes(xs, gs, vs));
        data(hv).forEach((d, i) => expect(d).toBeCloseTo(wantHv[i]!, 12));
      }
    });
  }
});

describe("cummax and cummin: ties share the cotangent, as max does", () => {
  it("a worked example: each output's cotangent splits among the entries attaining it so far", () => {
    // Running max [1, 3, 3, 3, 3, 5, 5]; hits at 0 | 1, 2, 4 | 5, 6, counted as they come.
    const got = data(gradOf(A.cummax, f64([1, 3, 3, 2, 3, 5, 5]), f64([1, 2, 3, 4, 5, 6, 7])));
    const want = [1, 2 / 1 + 3 / 2 + 4 / 2 + 5 / 3, 3 / 2 + 4 / 2 + 5 / 3, 0, 5 / 3, 6 / 1 + 7 / 2, 7 / 2];
    got.forEach((d, i) => expect(d).toBeCloseTo(want[i]!, 14));
  });

  it("the last output's gradient is max's gradient, ties included (bit for bit)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 9 }),
        fc.boolean(),
        (xs, reverse) => {
          const x = f64(xs);
          const n = xs.length;
          const pick = (v: Value) => A.sliceWindow(v, { start: [reverse ? 0 : n - 1], step: [1], size: [1] });
          for (const [cum, red] of [
            [A.cummax, A.max],
            [A.cummin, A.min],
          ] as const) {
            const viaCum = A.grad((v: Value) => A.sum(pick(cum(v, { reverse }))))(x);
            const viaReduce = A.grad((v: Value) => red(v))(x);
            expectBits(`${cum.name} reverse=${reverse} at [${xs}]`, viaCum, viaReduce);
          }
        },
      ),
    );
  });
});

describe("logcumsumexp: extreme values", () => {
  // dx_i = Σ_{j≥i} g_j exp(x_i − y_j), 0 where x_i = −Inf.
  const naiveGrad = (x: readonly number[], y: readonly number[], g: readonly number[]) =>
    x.map((xi, i) => (xi === -Infinity ? 0 : g.slice(i).reduce((s, gj, q) => s + gj * Math.exp(xi - y[i + q]!), 0)));

  for (const x of [
    [-Infinity, -Infinity, 0, 1000, -1000, 999],
    [1000, 1000, -1000, 1001],
    [-1000, -1001, -999.5],
    [-Infinity, 2, -Infinity],
  ]) {
    it(`values and a finite gradient at [${x.join(", ")}]`, () => {
      const g = x.map((_, i) => 1 - 0.3 * i);
      const y = data(A.logcumsumexp(f64(x)));
      expect(y).toEqual(data(T.logcumsumexp(f64(x))));
      const got = data(gradOf(A.logcumsumexp, f64(x), f64(g)));
      expect(got.every(Number.isFinite)).toBe(true);
      const want = naiveGrad(x, y, g);
      got.forEach((d, i) => expect(d).toBeCloseTo(want[i]!, 12));
      // Second order stays finite too (no Inf − Inf or 0 · Inf in the rule's own derivative).
      const h = A.grad((u: Value) => A.sum(A.square(A.grad((w: Value) => A.sum(A.mul(A.logcumsumexp(w), f64(g))))(u))))(
        f64(x),
      );
      expect(data(h).every(Number.isFinite)).toBe(true);
    });
  }

  it("gradient and Hessian-vector product at ±1e4 and −Inf match closed forms (float64, float32, eager and jit)", () => {
    // f = Σ_j w_j y_j with y_j = log Σ_{k≤j} e^{x_k}; p_jk = e^{x_k − y_j}:
    // ∇f_k = Σ_{j≥k} w_j p_jk, (H v)_k = Σ_{j≥k} w_j p_jk (v_k − Σ_{l≤j} p_jl v_l).
    const x = [1e4, -1e4, -Infinity, 1e4 - 1, 0, 1e4 + 0.5];
    const w = [0.5, -1.25, 2, 0.75, -0.5, 1.5];
    const v = [1, -0.5, 0.25, 2, -1, 0.5];
    const y = x.map((_, j) => {
      const m = Math.max(...x.slice(0, j + 1));
      return m + Math.log(x.slice(0, j + 1).reduce((s, xk) => s + Math.exp(xk - m), 0));
    });
    const p = (j: number, k: number) => (k <= j && x[k] !== -Infinity ? Math.exp(x[k]! - y[j]!) : 0);
    const gradRef = x.map((_, k) => w.reduce((s, wj, j) => s + wj * p(j, k), 0));
    const hvRef = x.map((_, k) =>
      w.reduce((s, wj, j) => s + wj * p(j, k) * (v[k]! - v.reduce((t, vl, l) => t + p(j, l) * vl, 0)), 0),
    );
    for (const dtype of ["float64", "float32"] as const) {
      const t = (d: readonly number[]) => T.fromDataOrThrow(d, [d.length], dtype);
      const gradF = A.grad((u: Value) => A.sum(A.mul(A.logcumsumexp(u), t(w))));
      const hvF = A.grad((u: Value) => A.sum(A.mul(gradF(u), t(v))));
      const tol = dtype === "float64" ? 1e-12 : 2e-3;
      for (const [label, f, ref] of [
        ["gradient", gradF, gradRef],
        ["Hessian-vector product", hvF, hvRef],
      ] as const) {
        const eager = f(t(x));
        expectBits(`${label} ${dtype} under jit`, expectInvariant(`${label} ${dtype}`, f, [t(x)]), eager);
        data(eager).forEach((d, i) =>
          expect(Math.abs(d - ref[i]!), `${label} ${dtype} [${i}]`).toBeLessThanOrEqual(tol),
        );
      }
    }
  });

  it("float32 at ±1000 is finite and matches float64 rounded", () => {
    const x = [1000, -1000, 999, 1000.5];
    const y32 = data(A.logcumsumexp(T.fromDataOrThrow(x, [4], "float32")));
    expect(y32).toEqual(data(T.logcumsumexp(f64(x))).map(Math.fround));
  });
});

describe("eager == jit compiled == jit interpreted, bit for bit", () => {
  const arbCase = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.array(fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.constantFrom(0, 1, -1)), {
        minLength: T.sizeOf(shape),
        maxLength: T.sizeOf(shape),
      }),
      fc.integer({ min: -shape.length, max: shape.length - 1 }),
      fc.boolean(),
      fc.constantFrom<T.DType>("float32", "float64"),
    ),
  );

  it("values and gradients of every cumulative op", () => {
    fc.assert(
      fc.property(arbCase, ([shape, d, axis, reverse, dtype]) => {
        const x = T.fromDataOrThrow(d, shape, dtype);
        for (const [name, op] of Object.entries(ops)) {
          const value = (v: Value) => op(v, { axis, reverse });
          const grad = A.grad((v: Value) => A.sum(A.square(op(v, { axis, reverse }))));
          const label = `${name} ${dtype}[${shape}] axis=${axis} reverse=${reverse}`;
          expectBits(`${label} value`, expectInvariant(label, value, [x]), value(x));
          expectBits(`${label} grad`, expectInvariant(`${label} grad`, grad, [x]), grad(x));
        }
      }),
      { numRuns: 25 },
    );
  });

  it("linearScan: values and gradients in both operands", () => {
    fc.assert(
      fc.property(arbCase, ([shape, d, axis, reverse, dtype]) => {
        const b = T.fromDataOrThrow(d, shape, dtype);
        const a = T.fromDataOrThrow(
          d.map((v, i) => Math.sin(v + i)),
          shape,
          dtype,
        );
        const value = (u: Value, v: Value) => A.linearScan(u, v, { axis, reverse });
        const grads = A.grad((u: Value, v: Value) => A.sum(A.square(A.linearScan(u, v, { axis, reverse }))), {
          argnums: [0, 1],
        });
        const label = `linearScan ${dtype}[${shape}] axis=${axis} reverse=${reverse}`;
        expectBits(`${label} value`, expectInvariant(label, value, [a, b]), value(a, b));
        expectBits(`${label} grads`, expectInvariant(`${label} grads`, grads, [a, b]), grads(a, b));
      }),
      { numRuns: 25 },
    );
  });

  it("int32 and bool values", () => {
    const i = T.fromDataOrThrow([2 ** 30, 2 ** 30, -3, 7, 0, 5], [2, 3], "int32");
    const b = T.fromDataOrThrow([1, 0, 1, 1, 1, 0], [2, 3], "bool");
    for (const [name, op] of Object.entries(ops))
      for (const x of [i, b]) {
        const f = (v: Value) => [op(v, { axis: 0 }), op(v, { reverse: true })];
        expectBits(`${name} ${x.dtype}`, expectInvariant(`${name} ${x.dtype}`, f, [x]), f(x));
      }
    expect(data(A.cumsum(i, { axis: 1 }))).toEqual([2 ** 30, -(2 ** 31), -(2 ** 31) - 3 + 2 ** 32, 7, 7, 12]);
  });
});

describe("inside a scan body", () => {
  it("the gradient is the same eager, jit compiled and jit interpreted, and vmap of it runs", () => {
    const xs = T.random.normal(T.random.key(1), [5, 3, 4], "float32");
    const h0 = T.random.normal(T.random.key(2), [3, 4], "float32");
    const f = (c0: Value, seq: Value) => {
      const [c, ys] = A.scan(
        (c: Value, x: Value) => {
          const y = A.add(A.cumsum(A.mul(x, c), { axis: 1 }), A.logcumsumexp(x, { axis: 0, reverse: true }));
          return [A.tanh(A.cummax(y, { axis: 1 })), A.cumprod(A.linearScan(x, y), { axis: 0 })] as const;
        },
        c0,
        seq,
      );
      return A.sum(A.add(A.sum(c), A.sum(ys)));
    };
    const g = A.grad(f, { argnums: [0, 1] });
    const eager = g(h0, xs);
    expectBits("jit compiled", A.jit(g)(h0, xs), eager);
    expectBits("jit interpreted", A.jit(g, { compile: false })(h0, xs), eager);
    const batched = A.vmap(g, { inAxes: [0, null] })(T.stack([h0, h0]), xs) as T.Tensor[];
    expectBits(
      "vmap, first example",
      A.treeLeaves(A.slice(batched[0]!, [{ stop: 1 }]))[0],
      A.reshape(eager[0], [1, 3, 4]),
    );
  });
});

describe("compiled code around a cumulative op", () => {
  it("fuses the elementwise work that reads its result (the kernel route does not send it through impls)", () => {
    // Before the "kernel" route, a cumulative op's output counted as a fallback's: everything
    // reading it ran through impls, so no loop was generated after it (tanh ran as its impl).
    const x = T.fromDataOrThrow(
      Array.from({ length: 64 }, (_, i) => i / 64),
      [4, 16],
      "float32",
    );
    const f = (v: Value) => A.tanh(A.add(A.mul(A.cumsum(v, { axis: 0 }), 0.5), 1));
    const run = A.compileGraph(A.makeGraph(f)(x).graph);
    expect(run.source).toMatch(/= tanhf\(/);
    expectBits("fused after cumsum", run([x])[0], f(x));
  });
});

describe("jitted outputs computed by a cumulative kernel", () => {
  it("are returned without a copy, except one returned twice, which gets two buffers", () => {
    const x = T.fromDataOrThrow([1, 2, 3, 4], [2, 2], "float32");
    const once = A.compileGraph(A.makeGraph((v: Value) => A.cumsum(v))(x).graph);
    expect(once.source).not.toMatch(/freshTensor\(/);
    const twice = A.jit((v: Value) => {
      const c = A.cumsum(v);
      return [c, c];
    })(x);
    expect(twice[0]!.data).not.toBe(twice[1]!.data);
    expectBits("both outputs", twice[1], twice[0]);
    // Donating one of them leaves the other intact.
    const step = A.jit((v: Value) => A.mul(v, 2), { donate: [0] });
    step(twice[0]!);
    expect(data(twice[1])).toEqual([1, 3, 3, 7]);
  });
});

describe("errors name the op, the argument, what arrived and the fix", () => {
  const x = T.fromDataOrThrow([1, 2, 3, 4], [2, 2], "float32");
  const throwsWith = (f: () => unknown, ...parts: string[]) => {
    let message = "";
    try {
      f();
    } catch (e) {
      message = (e as Error).message;
    }
    for (const p of parts) expect(message).toContain(p);
  };
  it("axis out of range", () => throwsWith(() => A.cumsum(x, { axis: 2 }), "cumsum", "options.axis", "2", "[-2, 1]"));
  it("a list of axes", () =>
    throwsWith(() => A.cumprod(x, { axis: [0, 1] as never }), "cumprod", "options.axis", "an array", "one axis"));
  it("a non-boolean reverse", () =>
    throwsWith(() => A.cummax(x, { reverse: 1 as never }), "cummax", "options.reverse", "number", "boolean"));
  it("a scalar", () => throwsWith(() => A.cummin(T.scalar(1)), "cummin", "scalar", "reshape it to [1]"));
  it("a misspelt option", () => throwsWith(() => A.logcumsumexp(x, { axes: 0 } as never), "logcumsumexp", "axis"));
  it("under tracing too", () => throwsWith(() => A.jit((v: Value) => A.cumsum(v, { axis: -3 }))(x), "cumsum", "-3"));
});
