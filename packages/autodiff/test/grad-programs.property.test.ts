/**
 * @file Derivatives of random smooth programs (randomPrograms.ts: views, products, reductions,
 * softmaxes, pads, gathers, cumulative sums and scans, without kinks or divisions) against central
 * differences in float64: reverse mode, forward mode, and the second derivative (a
 * Hessian-vector product), each along random directions; and `remat` over a prefix of a program
 * changes no value and no gradient beyond its last bits (remat's documented promise).
 *
 * The gradient-check table checks every primitive's rules alone; a program chains them, so a
 * rule that is right alone but wrong in a context (a cotangent of a view of a view, a scan whose
 * pullback is differentiated again) shows here.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { arbSmoothSteps, gradAlong, lossOf, program, runs } from "./randomPrograms.js";
import { tensorOf } from "./compileSupport.js";

type Scalar = (...xs: Value[]) => Value;

/**
 * The differentiated inputs x [r, c], w [c, k], b [c] in float64, values in [−1, 1], and the
 * program's int32 positions [m] (for its gathers and scatters; fixed, not differentiated).
 */
const arbInputs = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }))
  .chain(([r, c, k]) => {
    const values = fc.double({ min: -1, max: 1, noNaN: true });
    return fc.tuple(
      fc.tuple(
        tensorOf([r, c], "float64", values),
        tensorOf([c, k], "float64", values),
        tensorOf([c], "float64", values),
      ),
      fc.integer({ min: 1, max: 4 }).chain((m) => tensorOf([m], "int32")),
    );
  });

/** The program's loss as a function of its three float inputs, at fixed positions. */
const lossAt =
  (steps: Parameters<typeof program>[0], ids: T.Tensor): Scalar =>
  (...xs) =>
    lossOf(program(steps))(...xs, ids);

const number = (v: unknown): number => (v as T.Tensor).data[0]!;
const dot = (a: readonly T.Tensor[], b: readonly T.Tensor[]): number =>
  a.reduce((s, t, i) => s + Array.from(t.data).reduce((u, x, k) => u + x * b[i]!.data[k]!, 0), 0);
const along = (xs: readonly T.Tensor[], v: readonly T.Tensor[], eps: number): T.Tensor[] =>
  xs.map((x, i) => T.add(x, T.mul(v[i]!, eps)));
const directions = (xs: readonly T.Tensor[], seed: number): T.Tensor[] =>
  xs.map((x, i) => T.random.normal(T.random.key(seed * 7 + i), x.shape, "float64"));

const EPS = 1e-5;
/** The central difference of `f` at `xs` along `v`. */
const slope = (f: (xs: readonly T.Tensor[]) => number, xs: readonly T.Tensor[], v: readonly T.Tensor[]): number =>
  (f(along(xs, v, EPS)) - f(along(xs, v, -EPS))) / (2 * EPS);

/** `got` equals the finite difference `want` up to its truncation and rounding error. */
const expectNear = (got: number, want: number, scale: number, what: string): void =>
  expect(Math.abs(got - want), `${what}: ${got} vs finite difference ${want}`).toBeLessThanOrEqual(
    1e-5 * (1 + Math.abs(want) + scale),
  );

const gradOf = (f: Scalar, xs: readonly T.Tensor[]): T.Tensor[] => A.grad(f, { argnums: [0, 1, 2] })(...xs);

describe("derivatives of random smooth programs equal central differences (float64)", () => {
  it("reverse and forward mode, along a random direction", () => {
    fc.assert(
      fc.property(arbSmoothSteps, arbInputs, fc.nat(1000), (steps, [xs, ids], seed) => {
        const loss = lossAt(steps, ids);
        const value = (at: readonly T.Tensor[]): number => number(loss(...at));
        const v = directions(xs, seed);
        const want = slope(value, xs, v);
        const scale = Math.abs(value(xs));
        expectNear(dot(gradOf(loss, xs), v), want, scale, "reverse mode");
        const [, tangent] = A.jvp(loss, xs, v);
        expectNear(number(tangent), want, scale, "forward mode");
      }),
      runs(120),
    );
  });

  it("the Hessian-vector product, along a second random direction", () => {
    fc.assert(
      fc.property(arbSmoothSteps, arbInputs, fc.nat(1000), (steps, [xs, ids], seed) => {
        const loss = lossAt(steps, ids);
        const [u, v] = [directions(xs, seed), directions(xs, seed + 1)];
        // h(x) = ⟨∇loss(x), u⟩; its gradient along v is uᵀ·H·v.
        const h = gradAlong(loss, u);
        const want = slope((at) => dot(gradOf(loss, at), u), xs, v);
        expectNear(dot(gradOf(h, xs), v), want, Math.abs(dot(gradOf(loss, xs), u)), "Hessian-vector product");
      }),
      runs(80),
    );
  });

  it("remat over a prefix of the program: the same values bit for bit, the same gradients to 1e-12", () => {
    fc.assert(
      fc.property(arbSmoothSteps, arbInputs, fc.nat(5), (steps, [xs, ids], cut) => {
        const k = Math.min(cut, steps.length);
        const [head, tail] = [program(steps.slice(0, k)), program(steps.slice(k))];
        // The tail reads the inputs and the head's two outputs (with remat, recomputed in the backward pass).
        const whole =
          (wrap: (f: (...a: Value[]) => Value[]) => (...a: Value[]) => Value[]) =>
          (...ys: Value[]): Value[] =>
            tail(...ys, ...(k === 0 ? [] : wrap((...a) => head(...a) as Value[])(...ys, ids)), ids) as Value[];
        const [plain, rematted] = [whole((f) => f), whole((f) => A.remat(f))];
        (rematted(...xs) as T.Tensor[]).forEach((t, i) =>
          expect(Array.from(t.data)).toEqual(Array.from((plain(...xs) as T.Tensor[])[i]!.data)),
        );
        const [g1, g0] = [gradOf(lossOf(rematted), xs), gradOf(lossOf(plain), xs)];
        g1.forEach((g, i) =>
          g.data.forEach((v, j) => {
            const want = g0[i]!.data[j]!;
            expect(Math.abs(v - want), `gradient ${i}[${j}]`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want)));
          }),
        );
      }),
      runs(80),
    );
  });
});
