/**
 * @file The vmap law at sizes where jit runs WebAssembly SIMD loops: vmap-law.test.ts checks every
 * primitive on [2, 3] examples, which compile to JavaScript loops only (a loop needs 128 elements
 * for SIMD). Here elementwise primitives, broadcasts, reductions and a small layer run on
 * [9, 17] examples, batched at axis 0, at the last axis (the loops then read strided lanes) and
 * with an argument shared; `jit(vmap(f))` equals stacking `f` over the examples bit for bit.
 */
import { describe, expect, it } from "vitest";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { checkVmapLaw, floats, Rng, type LawSpec } from "./vmapLaw.js";

const SHAPE = [9, 17] as const;

const unary = (f: (x: Value) => Value, lo = -2, hi = 2): LawSpec => ({
  args: (rng, dt) => [floats(rng, SHAPE, dt, lo, hi)],
  f,
});
const binary = (f: (a: Value, b: Value) => Value, lo = -2, hi = 2): LawSpec => ({
  args: (rng, dt) => [floats(rng, SHAPE, dt, lo, hi), floats(rng, SHAPE, dt, lo, hi)],
  f,
  shared: [0, 1],
});

/** The elementwise cases: the ones whose float32 loops the last test holds to SIMD. */
const elementwise: ReadonlyArray<readonly [string, LawSpec]> = [
  ["neg", unary(A.neg)],
  ["abs", unary(A.abs)],
  ["exp", unary(A.exp)],
  ["sqrt", unary(A.sqrt, 0, 3)],
  ["tanh", unary(A.tanh)],
  ["sigmoid", unary(A.sigmoid)],
  ["floor", unary(A.floor)],
  ["log", unary(A.log, 0.125, 3)],
  ["add", binary(A.add)],
  ["sub", binary(A.sub)],
  ["mul", binary(A.mul)],
  ["div", binary(A.div, 0.25, 2)],
  ["maximum", binary(A.maximum)],
  ["minimum", binary(A.minimum)],
  ["where(greater)", binary((a, b) => A.where(A.greater(a, b), A.mul(a, 2), b))],
  ["equal as a mask", binary((a, b) => A.mul(A.astype(A.equal(a, b), "float32"), A.exp(a)))],
];

const specs: ReadonlyArray<readonly [string, LawSpec]> = [
  ...elementwise,
  [
    "a row broadcast",
    {
      args: (rng, dt) => [floats(rng, SHAPE, dt), floats(rng, [SHAPE[1]], dt)],
      f: (x: Value, b: Value) => A.tanh(A.add(A.mul(x, 0.5), b)),
      shared: [1],
    },
  ],
  [
    "a column broadcast",
    {
      args: (rng, dt) => [floats(rng, SHAPE, dt), floats(rng, [SHAPE[0], 1], dt)],
      f: (x: Value, c: Value) => A.sigmoid(A.sub(x, c)),
      shared: [1],
    },
  ],
  ["logSoftmax over the rows", unary((x) => A.logSoftmax(x, -1))],
  ["sums over each axis", unary((x) => A.add(A.sum(x, { axis: 0 }), A.max(A.transpose(x), { axis: 1 })))],
  [
    "a dense layer (shared weight)",
    {
      args: (rng, dt) => [floats(rng, SHAPE, dt), floats(rng, [SHAPE[1], 13], dt), floats(rng, [13], dt)],
      f: (x: Value, w: Value, b: Value) => A.tanh(A.add(A.matmul(x, w), b)),
      shared: [1, 2],
    },
  ],
];

describe("the vmap law at SIMD sizes, under jit", () => {
  for (const dtype of ["float32", "float64"] as const)
    for (const [name, spec] of specs) it(`${name} (${dtype})`, () => checkVmapLaw(spec, dtype, "jit", 3));

  it("takes the path under test: float32 elementwise cases compile to SIMD loops, batched at either end", () => {
    const rng = new Rng(5);
    // floor and log have no SIMD form: their loops stay in JavaScript.
    for (const [name, spec] of elementwise.filter(([n]) => n !== "floor" && n !== "log")) {
      const examples = [0, 1, 2].map(() => spec.args(rng, "float32"));
      for (const axis of [0, SHAPE.length]) {
        const stacked = examples[0]!.map((_, i) =>
          A.stack(
            examples.map((ex) => ex[i]!),
            axis,
          ),
        );
        const vf = A.vmap(spec.f as (...xs: Value[]) => Value, { inAxes: stacked.map(() => axis) });
        const kernels = A.compileGraph(A.makeGraph(vf)(...stacked).graph).simdKernels;
        expect(kernels, `${name}, batched at axis ${axis}`).toBeGreaterThan(0);
      }
    }
  });
});
