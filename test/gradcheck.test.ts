/**
 * @file The gradient-check tables: one spec per primitive, typed by the registry, so a primitive
 * added without an entry does not compile, and one per composite op. Each spec exercises its op
 * through the public ops in float64 (checkGrads: random-direction central differences vs vjp and
 * jvp, order 2 where smooth); ops without a gradient must be registered as such and give exact
 * zeros. The tables live in test/gradcheck/; this file runs them.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { noGradient, registry, type PrimitiveName, type Value } from "@rewind/autodiff";
import { allClose } from "@rewind/testing";
import { runSpec, type GradSpec } from "./gradcheck/harness.js";
import { compositeSpecs, softmaxRows } from "./gradcheck/composites.js";
import { binarySpecs, unarySpecs } from "./gradcheck/elementwise.js";
import { reduceSpecs, shapeSpecs } from "./gradcheck/structural.js";
import { controlSpecs, indexingSpecs } from "./gradcheck/indexingControl.js";
import { randomSpecs } from "./gradcheck/random.js";
import { cumulativeSpecs } from "./gradcheck/cumulative.js";

const specs: { readonly [K in PrimitiveName]: GradSpec } = {
  ...unarySpecs,
  ...binarySpecs,
  ...reduceSpecs,
  ...shapeSpecs,
  ...indexingSpecs,
  ...controlSpecs,
  ...randomSpecs,
  ...cumulativeSpecs,
};

const names = Object.keys(registry) as PrimitiveName[];

describe("registry", () => {
  it("keys every primitive by its own name", () => {
    for (const [key, prim] of Object.entries(registry)) expect(prim.name).toBe(key);
  });

  it("has exactly the primitives of the gradient-check table", () => {
    // The type already forces completeness; this catches a spec left behind for a removed primitive.
    expect(Object.keys(specs).sort()).toEqual([...names].sort());
  });

  it("marks exactly the specs of kind noGradient with vjp: noGradient", () => {
    const marked = names.filter((n) => registry[n].vjp === noGradient).sort();
    const expected = names.filter((n) => specs[n].kind === "noGradient").sort();
    expect(marked).toEqual(expected);
  });
});

describe("gradcheck: every primitive in float64", () => {
  for (const name of names) {
    it(`${name} (${specs[name].kind})`, () => runSpec(name, specs[name]));
  }
});

describe("gradcheck: composite ops in float64", () => {
  for (const [name, spec] of Object.entries(compositeSpecs)) {
    it(`${name} (${spec.kind})`, () => runSpec(name, spec));
  }
});

describe("logSumExp stability", () => {
  const cases: ReadonlyArray<readonly [string, T.NestedArray]> = [
    [
      "+1000",
      [
        [1000, 1000, 999],
        [1000.5, 1000, 1001],
      ],
    ],
    [
      "−1000",
      [
        [-1000, -1000, -1001],
        [-999, -1000.5, -1000],
      ],
    ],
    [
      "±1000 mixed",
      [
        [1000, -1000, 0],
        [-1000, -1000, -1000],
      ],
    ],
    [
      "−Inf masks",
      [
        [0.5, -Infinity, 1],
        [-Infinity, -Infinity, 2],
      ],
    ],
  ];
  for (const [label, rows] of cases) {
    it(`gradient at ${label} is finite and equals softmax`, () => {
      const x = T.fromArrayOrThrow(rows, "float64");
      const g = A.grad((v: Value) => A.sum(A.logSumExp(v, { axis: -1 })))(x);
      expect(Array.from(g.data).every(Number.isFinite)).toBe(true);
      const r = allClose(g, T.fromDataOrThrow(softmaxRows(x), x.shape, "float64"), { rtol: 1e-12, atol: 1e-15 });
      expect(r.pass, r.message).toBe(true);
      // The value itself is exact too (no overflow to Inf, no underflow to −Inf).
      const lse = A.logSumExp(x, { axis: -1 }) as T.Tensor;
      expect(allClose(lse, T.logSumExp(x, { axis: -1 }), { rtol: 1e-14 }).pass).toBe(true);
    });
  }
});
