/**
 * @file The gradient-check table of the composite ops (built from primitives in ops/), including
 * logSumExp at ±1000 and with −Inf masks, and a plain-JavaScript softmax for the stability tests.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import {
  arbAxes,
  arbShape,
  arbTensor,
  awayFromZero,
  broadcastableTo,
  offGrid,
  real,
  shapes,
  tensorOf,
} from "./generators.js";
import { squared } from "./structural.js";

/** The composites checked; a name per row of the table (logSumExp has three domains). */
export type CompositeName =
  | "sigmoid"
  | "softplus"
  | "relu"
  | "square"
  | "rsqrt"
  | "reciprocal"
  | "mean"
  | "sumKeepDims"
  | "logSumExp"
  | "logSumExpLarge"
  | "logSumExpMasked"
  | "softmax"
  | "logSoftmax"
  | "expandDims"
  | "squeeze"
  | "stack"
  | "split"
  | "flip"
  | "oneHot"
  | "sumTo";

const reals = real(-3, 3);

const unary = (label: string, f: (x: Value) => Value, domain: fc.Arbitrary<number>, minRank = 0) =>
  arbTensor(domain, { minRank }).map((x): GradCase => ({ label: `${label} ${shapes(x)}`, f, args: [x] }));

/** A tensor and a subset of its axes (for reductions). */
const withAxes = (domain: fc.Arbitrary<number>) =>
  arbShape().chain((s) => fc.tuple(tensorOf(s, domain), arbAxes(s.length)));

/** A tensor (rank ≥ 1) and one of its axes, possibly written negatively. */
const withAxis = (domain: fc.Arbitrary<number>) =>
  arbShape({ minRank: 1 }).chain((s) =>
    fc.tuple(tensorOf(s, domain), fc.integer({ min: -s.length, max: s.length - 1 })),
  );

/**
 * Logits with a −Inf mask along `axis`: each masked entry is −Inf, but every row along the axis
 * keeps at least one finite entry (an all −Inf row has no softmax; its log-sum-exp is −Inf).
 */
const maskedLogits = arbShape({ minRank: 1 }).chain((s) =>
  fc
    .tuple(tensorOf(s, reals), fc.array(fc.boolean(), { minLength: T.sizeOf(s), maxLength: T.sizeOf(s) }))
    .map(([x, mask]) => {
      const last = s[s.length - 1]!;
      // Entry 0 of every row along the last axis stays finite.
      const data = Array.from(x.data, (v, i) => (mask[i] && i % last !== 0 ? -Infinity : v));
      return T.fromDataOrThrow(data, s, "float64");
    }),
);

/** Shifts every entry by ±1000, where exp overflows/underflows unless the max shift is used. */
const large = (x: T.Tensor, sign: boolean): T.Tensor => T.add(x, sign ? 1000 : -1000);

export const compositeSpecs: { readonly [K in CompositeName]: GradSpec } = {
  sigmoid: { kind: "fd", order: 2, cases: unary("sigmoid", A.sigmoid, real(-12, 12)) },
  softplus: { kind: "fd", order: 2, cases: unary("softplus", A.softplus, real(-12, 12)) },
  // relu is linear on each side of 0; the domain keeps FD off the kink.
  relu: { kind: "fd", order: 2, cases: unary("relu", squared(A.relu), awayFromZero(0.1, 3)) },
  square: { kind: "fd", order: 2, cases: unary("square", A.square, reals) },
  rsqrt: { kind: "fd", order: 2, cases: unary("rsqrt", A.rsqrt, real(0.3, 4)) },
  reciprocal: { kind: "fd", order: 2, cases: unary("reciprocal", A.reciprocal, awayFromZero(0.3, 3)) },
  mean: {
    kind: "fd",
    order: 2,
    cases: fc.tuple(withAxes(reals), fc.boolean()).map(([[x, axes], keepDims]): GradCase => ({
      label: `mean ${shapes(x)} axis=[${axes}] keepDims=${keepDims}`,
      f: squared((v) => A.mean(v, { axis: axes, keepDims })),
      args: [x],
    })),
  },
  sumKeepDims: {
    kind: "fd",
    order: 2,
    cases: withAxes(reals).map(([x, axes]): GradCase => ({
      label: `sum keepDims ${shapes(x)} axis=[${axes}]`,
      f: squared((v) => A.sum(v, { axis: axes, keepDims: true })),
      args: [x],
    })),
  },
  logSumExp: {
    kind: "fd",
    order: 2,
    cases: fc.tuple(withAxes(reals), fc.boolean()).map(([[x, axes], keepDims]): GradCase => ({
      label: `logSumExp ${shapes(x)} axis=[${axes}] keepDims=${keepDims}`,
      f: (v: Value) => A.logSumExp(v, { axis: axes, keepDims }),
      args: [x],
    })),
  },
  logSumExpLarge: {
    kind: "fd",
    order: 2,
    cases: fc.tuple(withAxes(reals), fc.boolean()).map(([[x, axes], sign]): GradCase => ({
      label: `logSumExp at ${sign ? "+" : "-"}1000 ${shapes(x)} axis=[${axes}]`,
      f: (v: Value) => A.logSumExp(v, { axis: axes }),
      args: [large(x, sign)],
    })),
  },
  logSumExpMasked: {
    kind: "fd",
    order: 2,
    cases: maskedLogits.map((x): GradCase => ({
      label: `logSumExp −Inf-masked ${shapes(x)}`,
      f: (v: Value) => A.logSumExp(v, { axis: -1 }),
      args: [x],
    })),
  },
  softmax: {
    kind: "fd",
    order: 2,
    cases: withAxis(reals).map(([x, axis]): GradCase => ({
      label: `softmax ${shapes(x)} axis=${axis}`,
      f: (v: Value) => A.softmax(v, axis),
      args: [x],
    })),
  },
  logSoftmax: {
    kind: "fd",
    order: 2,
    cases: withAxis(reals).map(([x, axis]): GradCase => ({
      label: `logSoftmax ${shapes(x)} axis=${axis}`,
      f: (v: Value) => A.logSoftmax(v, axis),
      args: [x],
    })),
  },
  expandDims: {
    kind: "fd",
    order: 2,
    cases: arbShape()
      .chain((s) => fc.tuple(tensorOf(s, reals), fc.integer({ min: -s.length - 1, max: s.length })))
      .map(([x, axis]): GradCase => ({
        label: `expandDims ${shapes(x)} axis=${axis}`,
        f: squared((v) => A.expandDims(v, axis)),
        args: [x],
      })),
  },
  squeeze: {
    kind: "fd",
    order: 2,
    cases: arbShape({ minDim: 1, maxDim: 2 }).chain((s) =>
      tensorOf(s, reals).map((x): GradCase => ({
        label: `squeeze ${shapes(x)}`,
        f: squared((v) => A.squeeze(v)),
        args: [x],
      })),
    ),
  },
  stack: {
    kind: "fd",
    order: 2,
    cases: arbShape()
      .chain((s) =>
        fc.tuple(
          fc.integer({ min: -s.length - 1, max: s.length }),
          fc.array(tensorOf(s, reals), { minLength: 1, maxLength: 3 }),
        ),
      )
      .map(([axis, xs]): GradCase => ({
        label: `stack ${shapes(...xs)} axis=${axis}`,
        f: squared((...vs) => A.stack(vs, axis)),
        args: xs,
      })),
  },
  split: {
    kind: "fd",
    order: 2,
    cases: withAxis(reals)
      .chain(([x, axis]) =>
        fc.tuple(
          fc.constant(x),
          fc.constant(axis),
          fc.uniqueArray(fc.integer({ min: 0, max: x.shape.at(axis)! }), { maxLength: 3 }),
        ),
      )
      .map(([x, axis, points]): GradCase => {
        const sorted = [...points].sort((a, b) => a - b);
        return {
          label: `split ${shapes(x)} at [${sorted}] axis=${axis}`,
          f: (v: Value) => A.split(v, sorted, axis).map((p) => A.mul(p, p)),
          args: [x],
        };
      }),
  },
  flip: {
    kind: "fd",
    order: 2,
    cases: withAxis(reals).map(([x, axis]): GradCase => ({
      label: `flip ${shapes(x)} axis=${axis}`,
      f: squared((v) => A.flip(v, axis)),
      args: [x],
    })),
  },
  // oneHot of indices truncated from floats (away from the integers, in [0, 4)): the one-hot rows
  // dotted with [1, 2, 3, 4] give index + 1, with no gradient back to x.
  oneHot: {
    kind: "noGradient",
    cases: unary(
      "oneHot",
      (x) => A.sum(A.mul(A.oneHot(A.astype(x, "int32"), 4, "float64"), T.arange(1, 5, 1, "float64")), { axis: -1 }),
      offGrid(0.1, 0.9).map((v) => ((v % 4) + 4) % 4),
    ),
  },
  sumTo: {
    kind: "fd",
    order: 2,
    cases: arbShape()
      .chain((s) => fc.tuple(tensorOf(s, reals), broadcastableTo(s)))
      .map(([x, target]): GradCase => ({
        label: `sumTo ${shapes(x)} → [${target}]`,
        f: squared((v) => A.sumTo(v, target)),
        args: [x],
      })),
  },
};

/** softmax along the last axis in plain JavaScript, shifted by the max of the finite entries. */
export const softmaxRows = (x: T.Tensor): number[] => {
  const n = x.shape[x.shape.length - 1]!;
  const out: number[] = [];
  for (let r = 0; r < x.data.length; r += n) {
    const row = Array.from(x.data.subarray(r, r + n));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
};
