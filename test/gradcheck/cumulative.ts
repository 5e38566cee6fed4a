/**
 * @file Gradient specs of the cumulative primitives: every axis, both directions, order 2.
 *
 * Axes up to 5 long make the VJPs' doubling recurrence take up to three steps. cumsum, cummax and
 * cummin are linear near every generated point, so they are checked squared (see structural.ts).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import { arbShape, awayFromZero, distinctTensorOf, real, shapes, tensorOf } from "./generators.js";
import { squared } from "./structural.js";

type CumOp = (x: Value, o?: A.CumulativeOptions) => Value;

/** A tensor of rank ≥ 1 from `domain`, an axis (negative half the time) and a direction. */
const cumCases = (
  label: string,
  op: CumOp,
  domain: (s: number[]) => fc.Arbitrary<T.Tensor>,
  linear: boolean,
): fc.Arbitrary<GradCase> =>
  arbShape({ minRank: 1, maxDim: 5 })
    .chain((s) => fc.tuple(domain(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean()))
    .map(([x, axis, reverse]): GradCase => {
      const f = (v: Value) => op(v, { axis, reverse });
      return { label: `${label} ${shapes(x)} axis=${axis} reverse=${reverse}`, f: linear ? squared(f) : f, args: [x] };
    });

export const cumulativeSpecs = {
  cumsum: { kind: "fd", order: 2, cases: cumCases("cumsum", A.cumsum, (s) => tensorOf(s, real(-2, 2)), true) },
  // Exact zeros (one, two or more along an axis) or entries away from 0, as prod's spec: the
  // running products are polynomials, so FD across a zero is exact and checks the rule there.
  cumprod: {
    kind: "fd",
    order: 2,
    cases: cumCases("cumprod", A.cumprod, (s) => tensorOf(s, fc.oneof(awayFromZero(0.3, 1.5), fc.constant(0))), false),
  },
  // Distinct entries: no ties, so the running extremes are linear near every generated point.
  cummax: { kind: "fd", order: 2, cases: cumCases("cummax", A.cummax, distinctTensorOf, true) },
  cummin: { kind: "fd", order: 2, cases: cumCases("cummin", A.cummin, distinctTensorOf, true) },
  logcumsumexp: {
    kind: "fd",
    order: 2,
    cases: cumCases("logcumsumexp", A.logcumsumexp, (s) => tensorOf(s, real(-3, 3)), false),
  },
  // Factors of either sign, some exactly 0 (a restart), so products along the axis stay well scaled.
  linearScan: {
    kind: "fd",
    order: 2,
    cases: arbShape({ minRank: 1, maxDim: 5 })
      .chain((s) =>
        fc.tuple(
          tensorOf(s, fc.oneof(real(-1.5, 1.5), fc.constant(0))),
          tensorOf(s, real(-2, 2)),
          fc.integer({ min: -s.length, max: s.length - 1 }),
          fc.boolean(),
        ),
      )
      .map(([a, b, axis, reverse]): GradCase => ({
        label: `linearScan ${shapes(a, b)} axis=${axis} reverse=${reverse}`,
        f: (u: Value, v: Value) => A.linearScan(u, v, { axis, reverse }),
        args: [a, b],
      })),
  },
} as const satisfies Record<string, GradSpec>;
