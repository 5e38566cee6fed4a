/**
 * @file Gradient specs of the random primitives: keys are integer data and samples are constants
 * to every transform, so each is registered `noGradient`. The key reaches the sample through the
 * float argument (its rounded entries are folded into the key), so the check sees a real path from
 * the argument through the random primitive whose cotangent must be exactly zero.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import { arbShape, intTensorOf, offGrid, shapes, tensorOf } from "./generators.js";

const f64 = (v: Value): Value => A.astype(v, "float64");

/** A key that depends on x: key data folded with floor(x[0]) (off-grid, so FD never moves it). */
const keyFrom = (key: Value, x: Value): Value =>
  A.random.foldIn(key, A.astype(A.floor(A.reshape(A.take(x, [0]), [])), "int32"));

/** Random key data (int32 [2]) and x of a shape at least one element big. */
const keyAndX = (minShape: readonly number[] | undefined) =>
  fc.tuple(
    intTensorOf([2], -2147483648, 2147483647),
    minShape === undefined
      ? arbShape({ minRank: 1 }).chain((s) => tensorOf(s, offGrid(0.1, 0.9)))
      : tensorOf(minShape, offGrid(0.1, 0.9)),
  );

export const randomSpecs = {
  randomSample: {
    kind: "noGradient",
    cases: fc
      .tuple(keyAndX(undefined), fc.constantFrom("normal", "uniform", "bits", "bernoulli"))
      .map(([[key, x], dist]): GradCase => ({
        label: `randomSample ${dist} ${shapes(x)}`,
        f: (v: Value) => {
          const k = keyFrom(key, v);
          const s = v.shape;
          if (dist === "normal") return A.random.normal(k, s, "float64");
          if (dist === "uniform") return A.random.uniform(k, s, { min: -1, max: 1, dtype: "float64" });
          return f64(dist === "bits" ? A.random.bits(k, s) : A.random.bernoulli(k, 0.5, s));
        },
        args: [x],
      })),
  },
  keySplit: {
    kind: "noGradient",
    cases: fc.integer({ min: 1, max: 3 }).chain((n) =>
      keyAndX([n, 2]).map(([key, x]): GradCase => ({
        label: `keySplit n=${n}`,
        f: (v: Value) => f64(A.random.split(keyFrom(key, v), n)),
        args: [x],
      })),
    ),
  },
  keyFoldIn: {
    kind: "noGradient",
    cases: keyAndX([2]).map(([key, x]): GradCase => ({
      label: "keyFoldIn",
      f: (v: Value) => f64(keyFrom(key, v)),
      args: [x],
    })),
  },
} as const satisfies Record<string, GradSpec>;
