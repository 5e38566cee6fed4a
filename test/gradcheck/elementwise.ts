/**
 * @file Gradient specs of the elementwise primitives (unary, binary, comparisons, select), each
 * exercised through the public ops on a domain where it is smooth (JAX's LAX_GRAD_OPS domains).
 * Linear and piecewise-linear ops are squared for the order-2 check (see structural.ts).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import {
  arbBroadcastShapes,
  arbTensor,
  awayFromZero,
  boolTensorOf,
  broadcastableTo,
  distinctTensorOf,
  intTensorOf,
  offGrid,
  real,
  shapes,
  tensorOf,
} from "./generators.js";
import { squared } from "./structural.js";

const f64 = (v: Value): Value => A.astype(v, "float64");

/** Cases of a unary op on a domain. */
const unary = (label: string, f: (x: Value) => Value, domain: fc.Arbitrary<number>): fc.Arbitrary<GradCase> =>
  arbTensor(domain).map((x) => ({ label: `${label} ${shapes(x)}`, f, args: [x] }));

/** Cases of a binary op on broadcast-compatible shapes, each operand on its own domain. */
const binary = (
  label: string,
  f: (a: Value, b: Value) => Value,
  da: fc.Arbitrary<number>,
  db: fc.Arbitrary<number>,
): fc.Arbitrary<GradCase> =>
  arbBroadcastShapes().chain(({ a, b }) =>
    fc
      .tuple(tensorOf(a, da), tensorOf(b, db))
      .map(([x, y]) => ({ label: `${label} ${shapes(x, y)}`, f, args: [x, y] })),
  );

/**
 * Cases of a binary op on broadcast-compatible operands whose entries are all pairwise ≥ 0.06
 * apart, so the op never meets a tie (maximum/minimum kinks, comparison jumps) within FD's reach.
 */
const untied = (label: string, f: (a: Value, b: Value) => Value): fc.Arbitrary<GradCase> =>
  arbBroadcastShapes().chain(({ a, b }) =>
    distinctTensorOf([T.sizeOf(a) + T.sizeOf(b)]).map((both) => {
      const x = T.reshape(T.slice(both, [{ stop: T.sizeOf(a) }]), a);
      const y = T.reshape(T.slice(both, [{ start: T.sizeOf(a) }]), b);
      return { label: `${label} ${shapes(x, y)}`, f, args: [x, y] };
    }),
  );

/** Bool operands for the logical ops, made from comparisons of float arguments away from 0. */
const positive = (x: Value): Value => A.greater(x, 0);

export const unarySpecs = {
  neg: { kind: "fd", order: 2, cases: unary("neg", squared(A.neg), real(-3, 3)) },
  // |x| is linear on each side of 0; the domain keeps FD off the kink.
  abs: { kind: "fd", order: 2, cases: unary("abs", A.abs, awayFromZero(0.1, 3)) },
  exp: { kind: "fd", order: 2, cases: unary("exp", A.exp, real(-3, 3)) },
  expm1: { kind: "fd", order: 2, cases: unary("expm1", A.expm1, real(-2, 2)) },
  log: { kind: "fd", order: 2, cases: unary("log", A.log, real(0.2, 4)) },
  log1p: { kind: "fd", order: 2, cases: unary("log1p", A.log1p, real(-0.7, 3)) },
  sqrt: { kind: "fd", order: 2, cases: unary("sqrt", A.sqrt, real(0.2, 4)) },
  sin: { kind: "fd", order: 2, cases: unary("sin", A.sin, real(-3, 3)) },
  cos: { kind: "fd", order: 2, cases: unary("cos", A.cos, real(-3, 3)) },
  tanh: { kind: "fd", order: 2, cases: unary("tanh", A.tanh, real(-3, 3)) },
  // Wide enough to reach the saturated tails where the naive formula would lose the gradient.
  logistic: { kind: "fd", order: 2, cases: unary("sigmoid", A.sigmoid, real(-12, 12)) },
  softplus: { kind: "fd", order: 2, cases: unary("softplus", A.softplus, real(-12, 12)) },
  sign: { kind: "noGradient", cases: unary("sign", A.sign, awayFromZero(0.1, 3)) },
  floor: { kind: "noGradient", cases: unary("floor", A.floor, offGrid(0.1, 0.9)) },
  ceil: { kind: "noGradient", cases: unary("ceil", A.ceil, offGrid(0.1, 0.9)) },
  // round jumps at half-integers: stay off both the integers and the halves.
  round: { kind: "noGradient", cases: unary("round", A.round, fc.oneof(offGrid(0.1, 0.4), offGrid(0.6, 0.9))) },
  // log of a negative is NaN: the mask isNaN(log x) is 1 on negatives and carries no gradient.
  isNaN: { kind: "noGradient", cases: unary("isNaN", (x) => f64(A.isNaN(A.log(x))), awayFromZero(0.1, 3)) },
  isFinite: { kind: "noGradient", cases: unary("isFinite", (x) => f64(A.isFinite(A.log(x))), awayFromZero(0.1, 3)) },
  logicalNot: {
    kind: "noGradient",
    cases: unary("logicalNot", (x) => f64(A.logicalNot(positive(x))), awayFromZero(0.1, 3)),
  },
} as const satisfies Record<string, GradSpec>;

export const binarySpecs = {
  add: { kind: "fd", order: 2, cases: binary("add", squared(A.add), real(-3, 3), real(-3, 3)) },
  sub: { kind: "fd", order: 2, cases: binary("sub", squared(A.sub), real(-3, 3), real(-3, 3)) },
  mul: { kind: "fd", order: 2, cases: binary("mul", A.mul, real(-3, 3), real(-3, 3)) },
  // The denominator stays away from its pole at 0.
  div: { kind: "fd", order: 2, cases: binary("div", A.div, real(-3, 3), awayFromZero(0.3, 3)) },
  // A positive base keeps a^b real and ∂/∂b = a^b log a defined (JAX's rand_positive for pow);
  // a negative base is smooth too when the exponent is a closed-over integer constant.
  pow: {
    kind: "fd",
    order: 2,
    cases: fc.oneof(
      binary("pow", A.pow, real(0.3, 3), real(-2, 2)),
      arbTensor(awayFromZero(0.3, 2)).chain((x) =>
        intTensorOf(x.shape, -2, 3).map((n): GradCase => ({
          label: `pow ${shapes(x)} ** int ${shapes(n)}`,
          f: (a: Value) => A.pow(a, A.astype(n, "float64")),
          args: [x],
        })),
      ),
    ),
  },
  maximum: { kind: "fd", order: 2, cases: untied("maximum", squared(A.maximum)) },
  minimum: { kind: "fd", order: 2, cases: untied("minimum", squared(A.minimum)) },
  equal: { kind: "noGradient", cases: untied("equal", (a, b) => f64(A.equal(a, b))) },
  notEqual: { kind: "noGradient", cases: untied("notEqual", (a, b) => f64(A.notEqual(a, b))) },
  less: { kind: "noGradient", cases: untied("less", (a, b) => f64(A.less(a, b))) },
  lessEqual: { kind: "noGradient", cases: untied("lessEqual", (a, b) => f64(A.lessEqual(a, b))) },
  greater: { kind: "noGradient", cases: untied("greater", (a, b) => f64(A.greater(a, b))) },
  greaterEqual: { kind: "noGradient", cases: untied("greaterEqual", (a, b) => f64(A.greaterEqual(a, b))) },
  logicalAnd: {
    kind: "noGradient",
    cases: binary(
      "logicalAnd",
      (a, b) => f64(A.logicalAnd(positive(a), positive(b))),
      awayFromZero(0.1, 3),
      awayFromZero(0.1, 3),
    ),
  },
  logicalOr: {
    kind: "noGradient",
    cases: binary(
      "logicalOr",
      (a, b) => f64(A.logicalOr(positive(a), positive(b))),
      awayFromZero(0.1, 3),
      awayFromZero(0.1, 3),
    ),
  },
  // where(cond, a, b) with a closed-over bool mask; all three operands broadcast.
  select: {
    kind: "fd",
    order: 2,
    cases: arbBroadcastShapes().chain(({ out, a, b }) =>
      fc
        .tuple(broadcastableTo(out).chain(boolTensorOf), tensorOf(a, real(-3, 3)), tensorOf(b, real(-3, 3)))
        .map(([c, x, y]) => ({
          label: `where ${shapes(c, x, y)}`,
          // Squared so that the second-order check sees a non-zero second derivative.
          f: (p: Value, q: Value) => A.where(c, A.mul(p, p), A.sin(q)),
          args: [x, y],
        })),
    ),
  },
} as const satisfies Record<string, GradSpec>;
