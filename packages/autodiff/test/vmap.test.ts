/**
 * @file vmap's API and its compositions: inAxes/outAxes (numbers, negative, null, pytree
 * prefixes), axisSize, the errors for bad axes and mismatched sizes, nested vmap, per-example
 * gradients (`vmap(grad(f))` against the loop of single-example gradients), `grad` of a vmapped
 * function, `jit(vmap(f))`, and random shapes and axes (fast-check).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectSameBits, floats, Rng } from "./vmapLaw.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const data = (v: unknown): number[] => Array.from((v as T.Tensor).data);
/** Example i of x along axis 0. */
const row = (x: Value, i: number): Value => A.reshape(A.take(x, [i], 0), x.shape.slice(1));

/** |a − b| ≤ tol elementwise, shapes equal. */
const expectClose = (actual: unknown, expected: unknown, tol: number): void => {
  const a = actual as T.Tensor;
  const e = expected as T.Tensor;
  expect(a.shape).toEqual(e.shape);
  a.data.forEach((x, i) => expect(Math.abs(x - e.data[i]!)).toBeLessThanOrEqual(tol));
};

/** The refusal vmap throws: a GraphException whose message matches. */
const refused = (re: RegExp) => expect.objectContaining({ message: expect.stringMatching(re) as unknown });

describe("vmap: axes", () => {
  const dot = (a: Value, b: Value) => A.sum(A.mul(a, b));
  const a = f64([
    [1, 2],
    [3, 4],
  ]);

  it("maps over axis 0 by default, and shares arguments with inAxes null", () => {
    expect(
      data(
        A.vmap(dot)(
          a,
          f64([
            [1, 1],
            [2, 2],
          ]),
        ),
      ),
    ).toEqual([3, 14]);
    expect(data(A.vmap(dot, { inAxes: [0, null] })(a, f64([1, 1])))).toEqual([3, 7]);
  });

  it("maps over any axis, negative ones counting from the end", () => {
    // columns of a: [1, 3] and [2, 4]
    expect(data(A.vmap(dot, { inAxes: [1, null] })(a, f64([1, 1])))).toEqual([4, 6]);
    expect(data(A.vmap(dot, { inAxes: [-1, null] })(a, f64([1, 1])))).toEqual([4, 6]);
  });

  it("places the batch axis where outAxes says, and broadcasts an unbatched output", () => {
    const xs = floats(new Rng(3), [4, 2, 3], "float64");
    const out = A.vmap((x: Value) => A.transpose(x), { outAxes: 2 })(xs);
    expect(out.shape).toEqual([3, 2, 4]);
    expectSameBits(out, A.transpose(xs, [2, 1, 0]), "outAxes 2");
    const [y, c] = A.vmap((x: Value) => [A.exp(x), f64([7, 8])], { outAxes: [-1, 0] })(xs);
    expect(y!.shape).toEqual([2, 3, 4]);
    expect(data(c)).toEqual([7, 8, 7, 8, 7, 8, 7, 8]);
  });

  it("takes pytree prefixes: per-argument specs down to a subtree", () => {
    const params = { w: f64([1, 2]), b: f64([[10], [20], [30]]) };
    const xs = f64([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const f = (p: { w: Value; b: Value }, x: Value) => A.add(A.sum(A.mul(p.w, x)), A.sum(p.b));
    const out = A.vmap(f, { inAxes: [{ w: null, b: 0 }, 0] })(params, xs);
    expect(data(out)).toEqual([13, 26, 39]);
    const out2 = A.vmap((t: { x: Value; n: Value[] }) => A.mul(t.x, t.n[0]!), {
      outAxes: 0,
    })({ x: f64([1, 2]), n: [f64([3, 4])] });
    expect(data(out2)).toEqual([3, 8]);
  });

  it("runs f once per example with axisSize when nothing is batched", () => {
    const out = A.vmap((x: Value) => A.mul(x, 2), { inAxes: null, axisSize: 3 })(f64([1, 2]));
    expect(out.shape).toEqual([3, 2]);
    expect(data(out)).toEqual([2, 4, 2, 4, 2, 4]);
  });
});

describe("vmap: errors name vmap, the argument path, the axis and the sizes", () => {
  const f = (a: Value, b: Value) => A.add(a, b);
  it("refuses batched arguments of different sizes", () => {
    expect(() => A.vmap(f)(f64([1, 2, 3]), f64([1, 2]))).toThrow(
      refused(/^vmap: .*args\[1\] \(f64\[2\]\) has 2 examples along axis 0, but args\[0\] \(f64\[3\], axis 0\) has 3/),
    );
    expect(() => A.vmap(f, { axisSize: 4 })(f64([1, 2, 3]), f64([1, 2, 3]))).toThrow(
      refused(/args\[0\] .* has 3 examples along axis 0, but options.axisSize is 4/),
    );
  });
  it("refuses an axis out of range and a scalar with an axis", () => {
    expect(() => A.vmap(f, { inAxes: [2, 0] })(f64([[1]]), f64([1]))).toThrow(
      refused(/^vmap: .*axis 2 is out of range for args\[0\], f64\[1,1\] \(rank 2: use an integer in \[-2, 1\]\)/),
    );
    expect(() => A.vmap(f)(T.scalar(1, "float64"), f64([1]))).toThrow(refused(/no axis to batch over/));
  });
  it("refuses inAxes that do not match the arguments, and no batched argument", () => {
    expect(() => A.vmap(f, { inAxes: [0] })(f64([1]), f64([1]))).toThrow(
      refused(/^vmap: .*inAxes is an array of 1 but args is an array of 2/),
    );
    expect(() => A.vmap(f, { inAxes: [{ w: 0 }, 0] })(f64([1]), f64([1]))).toThrow(
      refused(/inAxes\[0\] is an object with keys \[w\] but args\[0\] is a tensor/),
    );
    expect(() => A.vmap(f, { inAxes: null })(f64([1]), f64([1]))).toThrow(refused(/axisSize/));
    expect(() => A.vmap(f, { inAxes: "0" as never })(f64([1]), f64([1]))).toThrow(refused(/must be a number, null/));
  });
  it("refuses outAxes null for an output that differs between examples, and misspelt options", () => {
    expect(() => A.vmap((x: Value) => A.exp(x), { outAxes: null })(f64([1]))).toThrow(
      refused(/outAxes is null for out, but it differs between examples/),
    );
    expect(() => A.vmap((x: Value) => x, { inAxis: 0 } as never)).toThrow(refused(/did you mean "inAxes"/));
  });
});

/** A small MLP loss of one example, in float64. */
const mlpLoss = (p: { w1: Value; b1: Value; w2: Value }, x: Value, y: Value): Value => {
  const h = A.tanh(A.add(A.matmul(x, p.w1), p.b1));
  const out = A.matmul(h, p.w2);
  return A.add(A.sum(A.square(A.sub(out, y))), A.mul(A.sum(A.square(p.w1)), 1e-3));
};

describe("vmap: composition with grad, jit and itself", () => {
  const rng = new Rng(11);
  const p = { w1: floats(rng, [3, 4], "float64"), b1: floats(rng, [4], "float64"), w2: floats(rng, [4, 2], "float64") };
  const xs = floats(rng, [6, 3], "float64");
  const ys = floats(rng, [6, 2], "float64");

  it("vmap(grad(f)) gives per-example gradients equal to the loop of single-example gradients (1e-12)", () => {
    const perExample = A.vmap(A.grad(mlpLoss), { inAxes: [null, 0, 0] })(p, xs, ys) as Record<string, Value>;
    for (let i = 0; i < 6; i++) {
      const gi = A.grad(mlpLoss)(p, row(xs, i), row(ys, i)) as Record<string, Value>;
      for (const k of ["w1", "b1", "w2"]) expectClose(row(perExample[k]!, i), gi[k], 1e-12);
    }
    const jitted = A.jit(A.vmap(A.grad(mlpLoss), { inAxes: [null, 0, 0] }))(p, xs, ys) as Record<string, Value>;
    for (const k of ["w1", "b1", "w2"]) expectSameBits(jitted[k]!, perExample[k]!, `jit ${k}`);
  });

  it("grad of a vmapped function equals the gradient of the loop", () => {
    const batchLoss = (q: typeof p) => A.sum(A.vmap(mlpLoss, { inAxes: [null, 0, 0] })(q, xs, ys));
    const loopLoss = (q: typeof p) => A.sum(A.stack([0, 1, 2, 3, 4, 5].map((i) => mlpLoss(q, row(xs, i), row(ys, i)))));
    const g = A.grad(batchLoss)(p) as Record<string, Value>;
    const h = A.grad(loopLoss)(p) as Record<string, Value>;
    for (const k of ["w1", "b1", "w2"]) expectClose(g[k], h[k], 1e-12);
  });

  it("nested vmap maps over two axes", () => {
    const x = floats(new Rng(5), [2, 3, 4], "float64");
    const w = floats(new Rng(6), [4], "float64");
    const inner = (v: Value) => A.sum(A.mul(v, w));
    const out = A.vmap(A.vmap(inner))(x);
    expect(out.shape).toEqual([2, 3]);
    expectSameBits(out, A.sum(A.mul(x, w), { axis: 2 }), "vmap(vmap)");
    // x laid out [4, 2, 3]: the outer vmap maps axis 1 (size 2), the inner axis 1 of each example (size 3)
    const swapped = A.vmap(A.vmap(inner, { inAxes: 1 }), { inAxes: 1 })(A.transpose(x, [2, 0, 1])) as T.Tensor;
    expectSameBits(swapped, out, "axes 1, 1");
  });

  it("vmap of jvp and of jit", () => {
    const x = floats(new Rng(8), [4, 3], "float64");
    const v = floats(new Rng(9), [4, 3], "float64");
    const f = (a: Value) => A.sum(A.sin(A.mul(a, a)));
    const [, tangents] = A.vmap((a: Value, t: Value) => A.jvp(f, [a], [t]))(x, v);
    for (let i = 0; i < 4; i++) expectClose(row(tangents, i), A.jvp(f, [row(x, i)], [row(v, i)])[1], 1e-12);
    expectSameBits(A.vmap(A.jit(f))(x), A.vmap(f)(x), "vmap(jit(f))");
  });

  it("remat under vmap stays one remat of the batched body, and per-example gradients through it match", () => {
    const f = (q: typeof p, x: Value, y: Value) => A.remat(mlpLoss)(q, x, y);
    const perEx = A.vmap(A.grad(f), { inAxes: [null, 0, 0] });
    const got = perEx(p, xs, ys) as Record<string, Value>;
    for (let i = 0; i < 6; i++) {
      const gi = A.grad(mlpLoss)(p, row(xs, i), row(ys, i)) as Record<string, Value>;
      for (const k of ["w1", "b1", "w2"]) expectClose(row(got[k]!, i), gi[k], 1e-12);
    }
    const g = A.makeGraph(A.vmap(f, { inAxes: [null, 0, 0] }))(p, xs, ys).graph;
    expect(g.eqns.filter((e) => e.prim.name === "remat").size).toBe(1);
  });

  it("grad of a vmapped customVjp uses the user's bwd, summing the cotangents of shared arguments", () => {
    // bwd is deliberately not sin's derivative: the gradient shows which rule ran
    const scaled = A.customVjp(
      (x: Value, y: Value) => A.mul(A.sin(x), y),
      (x: Value, y: Value) => [A.mul(A.sin(x), y), [x, y]] as const,
      ([x, y]: readonly Value[], g: Value) => [A.mul(g, A.mul(y!, 3)), A.mul(g, A.sin(x!))],
    );
    const w = f64([0.5, -2]);
    const xb = f64([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const batched = (x: Value, y: Value) => A.sum(A.vmap(scaled, { inAxes: [0, null] })(x, y));
    const loop = (x: Value, y: Value) => A.sum(A.stack([0, 1, 2].map((i) => A.sum(scaled(row(x, i), y)))));
    const [gx, gy] = A.grad(batched, { argnums: [0, 1] })(xb, w);
    const [lx, ly] = A.grad(loop, { argnums: [0, 1] })(xb, w);
    expectSameBits(gx, lx, "x");
    expectClose(gy, ly, 1e-12);
    expect(data(gx)).toEqual([1.5, -6, 1.5, -6, 1.5, -6]);
    const g = A.makeGraph(A.vmap(scaled, { inAxes: [0, null] }))(xb, w).graph;
    expect(g.eqns.filter((e) => e.prim.name === "customVjp").size).toBe(1);
  });

  it("batching rules do not loop: the batched graph has as many equations for 2 examples as for 9", () => {
    const count = (n: number) =>
      A.makeGraph(A.vmap(A.grad(mlpLoss), { inAxes: [null, 0, 0] }))(
        p,
        floats(rng, [n, 3], "float64"),
        floats(rng, [n, 2], "float64"),
      ).graph.eqns.size;
    expect(count(9)).toBe(count(2));
  });
});

describe("vmap: random shapes and axes (fast-check)", () => {
  it("sum over a random axis, mapped over a random axis, equals the loop", () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.integer({ min: 0, max: shape.length }),
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.integer({ min: 1, max: 4 }),
        ),
      );
    fc.assert(
      fc.property(arb, ([shape, inAxis, axis, outAxis, size]) => {
        const rng = new Rng(shape.length * 31 + inAxis);
        const examples = Array.from({ length: size }, () => floats(rng, shape, "float64"));
        const f = (x: Value) => A.mul(A.sum(x, { axis, keepDims: true }), A.exp(x));
        const got = A.vmap(f, { inAxes: inAxis, outAxes: outAxis })(A.stack(examples, inAxis));
        expectSameBits(got, A.stack(examples.map(f), outAxis), `shape ${shape} in ${inAxis} out ${outAxis}`);
      }),
      { numRuns: 60 },
    );
  });
});
