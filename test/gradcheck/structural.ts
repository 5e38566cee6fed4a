/**
 * @file Gradient specs of the reduction and shape primitives.
 *
 * Most of these ops are linear, and the pullback of a linear op does not depend on its input, so
 * an order-2 check of the bare op would never run the VJP of its VJP rule. `squared(op)` checks
 * op(x)² instead: its pullback 2·opᵀ(op(x)·u) depends on x, so order 2 differentiates the rule.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import {
  arbAxes,
  arbPerm,
  arbShape,
  arbTensor,
  awayFromZero,
  broadcastableTo,
  distinctTensorOf,
  real,
  shapes,
  tensorOf,
} from "./generators.js";

/** op(...)², elementwise: makes the order-2 check exercise a linear op's VJP rule (see @file). */
export const squared =
  (f: (...a: Value[]) => Value) =>
  (...a: Value[]): Value => {
    const y = f(...a);
    return A.mul(y, y);
  };

const reals = real(-2, 2);

/** A tensor of a generated shape (rank ≥ `minRank`) and a value drawn from that shape. */
const withShape = <P>(
  minRank: number,
  domain: (s: number[]) => fc.Arbitrary<T.Tensor>,
  param: (s: number[]) => fc.Arbitrary<P>,
): fc.Arbitrary<[T.Tensor, P]> => arbShape({ minRank }).chain((s) => fc.tuple(domain(s), param(s)));

/** A reduction over a generated subset of axes; `linear` ones are squared (see @file). */
const reduction = (
  label: string,
  op: (x: Value, o: A.ReduceOptions) => Value,
  domain: (s: number[]) => fc.Arbitrary<T.Tensor>,
  linear = true,
) =>
  withShape(0, domain, (s) => arbAxes(s.length)).map(([x, axes]): GradCase => {
    const f = (v: Value) => op(v, { axis: axes });
    return { label: `${label} ${shapes(x)} axis=[${axes}]`, f: linear ? squared(f) : f, args: [x] };
  });

const argReduction = (label: string, op: typeof A.argmax) =>
  withShape(1, distinctTensorOf, (s) => fc.integer({ min: -s.length, max: s.length - 1 })).map(
    ([x, axis]): GradCase => ({
      label: `${label} ${shapes(x)} axis=${axis}`,
      // keepDims keeps the mask broadcastable against x for the harness' mul(f(x), x).
      f: (v: Value) => A.astype(op(v, { axis, keepDims: true }), "float64"),
      args: [x],
    }),
  );

/** One Python-style slice spec for an axis of size `dim`: any start/stop, a non-zero step in [−3, 3]. */
const sliceSpec = (dim: number): fc.Arbitrary<A.SliceSpec | null> =>
  fc.option(
    fc
      .record({
        start: fc.option(fc.integer({ min: -dim - 1, max: dim + 1 }), { nil: undefined }),
        stop: fc.option(fc.integer({ min: -dim - 1, max: dim + 1 }), { nil: undefined }),
        step: fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0),
      })
      .map((r) => ({
        step: r.step,
        ...(r.start === undefined ? {} : { start: r.start }),
        ...(r.stop === undefined ? {} : { stop: r.stop }),
      })),
  );

/** A resolved in-bounds window (start, step ≠ 0, size ≥ 1 per axis) into a tensor of `inShape`. */
const windowInto = (inShape: readonly number[]) =>
  fc
    .tuple(...inShape.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.constantFrom(1, 2, -1, -2), fc.nat())))
    .map((axes) => {
      const start = axes.map(([s]) => s);
      const step = axes.map(([, st]) => st);
      // The largest count that stays in bounds, then any count from 1 to it.
      const size = axes.map(([s, st, pick], i) => {
        const most = st > 0 ? Math.floor((inShape[i]! - 1 - s) / st) + 1 : Math.floor(s / -st) + 1;
        return 1 + (pick % most);
      });
      return { start, step, size };
    });

export const reduceSpecs = {
  sum: { kind: "fd", order: 2, cases: reduction("sum", A.sum, (s) => tensorOf(s, reals)) },
  // Distinct entries: no ties, so max is linear near every generated point.
  reduceMax: { kind: "fd", order: 2, cases: reduction("max", A.max, distinctTensorOf) },
  reduceMin: { kind: "fd", order: 2, cases: reduction("min", A.min, distinctTensorOf) },
  // Entries are exactly 0 (the rule's special cases: one, two, more zeros) or away from 0, so the
  // partials Π_{j≠i} x_j are well scaled. Π is a polynomial, so FD across a zero is exact. Not
  // squared: (Πx)² has a zero pullback wherever Πx = 0, which would hide Π's Hessian there.
  prod: {
    kind: "fd",
    order: 2,
    cases: reduction("prod", A.prod, (s) => tensorOf(s, fc.oneof(awayFromZero(0.3, 2), fc.constant(0))), false),
  },
  argmax: { kind: "noGradient", cases: argReduction("argmax", A.argmax) },
  argmin: { kind: "noGradient", cases: argReduction("argmin", A.argmin) },
} as const satisfies Record<string, GradSpec>;

export const shapeSpecs = {
  broadcastTo: {
    kind: "fd",
    order: 2,
    cases: arbShape()
      .chain((out) =>
        fc.tuple(
          fc.constant(out),
          broadcastableTo(out).chain((s) => tensorOf(s, reals)),
        ),
      )
      .map(([out, x]): GradCase => ({
        label: `broadcastTo ${shapes(x)} → [${out}]`,
        f: squared((v) => A.broadcastTo(v, out)),
        args: [x],
      })),
  },
  reshape: {
    kind: "fd",
    order: 2,
    cases: withShape(
      0,
      (s) => tensorOf(s, reals),
      (s) => fc.tuple(arbPerm(s.length), fc.boolean()),
    ).map(([x, [perm, hole]]): GradCase => {
      // The same dims in another order, with one of them inferred (−1) half the time.
      const target = perm.map((p, i) => (hole && i === 0 ? -1 : x.shape[p]!));
      return { label: `reshape ${shapes(x)} → [${target}]`, f: squared((v) => A.reshape(v, target)), args: [x] };
    }),
  },
  transpose: {
    kind: "fd",
    order: 2,
    cases: withShape(
      0,
      (s) => tensorOf(s, reals),
      (s) => arbPerm(s.length),
    ).map(([x, perm]): GradCase => ({
      label: `transpose ${shapes(x)} perm=[${perm}]`,
      f: squared((v) => A.transpose(v, perm)),
      args: [x],
    })),
  },
  // Python slicing with negative starts, stops and steps, possibly empty along an axis.
  slice: {
    kind: "fd",
    order: 2,
    cases: withShape(
      1,
      (s) => tensorOf(s, reals),
      (s) => fc.tuple(...s.map(sliceSpec)),
    ).map(([x, specs]): GradCase => ({
      label: `slice ${shapes(x)} ${JSON.stringify(specs)}`,
      f: squared((v) => A.slice(v, specs)),
      args: [x],
    })),
  },
  unslice: {
    kind: "fd",
    order: 2,
    cases: arbShape({ minRank: 1 })
      .chain((inShape) => fc.tuple(fc.constant(inShape), windowInto(inShape)))
      .chain(([inShape, w]) => fc.tuple(fc.constant(inShape), fc.constant(w), tensorOf(w.size, reals)))
      .map(([inShape, w, x]): GradCase => ({
        label: `unslice ${shapes(x)} into [${inShape}] ${JSON.stringify(w)}`,
        f: squared((v) => A.unslice(v, inShape, w)),
        args: [x],
      })),
  },
  flip: {
    kind: "fd",
    order: 2,
    cases: withShape(
      0,
      (s) => tensorOf(s, reals),
      (s) => arbAxes(s.length),
    ).map(([x, axes]): GradCase => ({
      label: `flip ${shapes(x)} axes=[${axes}]`,
      f: squared((v) => A.flip(v, axes)),
      args: [x],
    })),
  },
  pad: {
    kind: "fd",
    order: 2,
    cases: withShape(
      0,
      (s) => tensorOf(s, reals),
      (s) => fc.tuple(fc.tuple(...s.map(() => fc.tuple(fc.nat(2), fc.nat(2)))), reals),
    ).map(([x, [widths, value]]): GradCase => ({
      label: `pad ${shapes(x)} ${JSON.stringify(widths)}`,
      f: squared((v) => A.pad(v, widths, value)),
      args: [x],
    })),
  },
  concat: {
    kind: "fd",
    order: 2,
    cases: arbShape({ minRank: 1 })
      .chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.integer({ min: 0, max: s.length - 1 }),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }),
        ),
      )
      .chain(([s, axis, sizes]) =>
        fc.tuple(
          fc.constant(axis),
          fc.tuple(
            ...sizes.map((n) =>
              tensorOf(
                s.map((d, i) => (i === axis ? n : d)),
                reals,
              ),
            ),
          ),
        ),
      )
      .map(([axis, xs]): GradCase => ({
        label: `concat ${shapes(...xs)} axis=${axis}`,
        f: squared((...vs) => A.concat(vs, axis)),
        args: xs,
      })),
  },
  // x · f64(f32(x)): the product is quadratic, for which central differences are exact at any
  // step, so a large eps leaves only float32 rounding (≤ 2⁻²⁴·|x|² per element, divided by 2·eps).
  // That rounding is the reason for the looser atol; the derivative itself is exact.
  convert: {
    kind: "fd",
    order: 2,
    eps: 0.25,
    atol: 1e-5,
    cases: arbTensor(real(-3, 3)).map((x): GradCase => ({
      label: `convert f64→f32→f64 ${shapes(x)}`,
      f: (v: Value) => A.mul(v, A.astype(A.astype(v, "float32"), "float64")),
      args: [x],
    })),
  },
} as const satisfies Record<string, GradSpec>;
