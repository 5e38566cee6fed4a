/**
 * @file Elementwise unary primitives. Composites (sigmoid's friends relu, square, rsqrt,
 * reciprocal) live in ops/; `logistic` and `softplus` are primitives for numerical stability.
 */
import * as T from "@rewind/tensor";
import { definePrimitive, noGradient, type VjpRule } from "../Primitive.js";
import { sameLayoutBatch } from "./batching.js";
import { boolAval, floatAval, numericAval, sameAval } from "./helpers.js";

type Kernel = (x: T.Tensor) => T.Tensor;

/** An elementwise primitive on floats with the given kernel and VJP rule. */
const floatUnary = <Name extends string>(name: Name, kernel: Kernel, vjp: VjpRule<void>) =>
  definePrimitive<Name, void>({
    name,
    abstractEval: (ins) => [floatAval(name, ins)],
    impl: ([x]) => [kernel(x!)],
    vjp,
    batch: sameLayoutBatch,
  });

/** An elementwise primitive that keeps any numeric dtype and has no gradient (piecewise constant). */
const flatUnary = <Name extends string>(name: Name, kernel: Kernel) =>
  definePrimitive<Name, void>({
    name,
    abstractEval: (ins) => [numericAval(name, ins)],
    impl: ([x]) => [kernel(x!)],
    vjp: noGradient,
    batch: sameLayoutBatch,
  });

/** An elementwise predicate (bool result, no gradient). */
const predicate = <Name extends string>(name: Name, kernel: Kernel) =>
  definePrimitive<Name, void>({
    name,
    abstractEval: (ins) => [boolAval(sameAval(name, ins))],
    impl: ([x]) => [kernel(x!)],
    vjp: noGradient,
    batch: sameLayoutBatch,
  });

/** -x on any numeric dtype. */
export const neg = definePrimitive<"neg", void>({
  name: "neg",
  abstractEval: (ins) => [numericAval("neg", ins)],
  impl: ([x]) => [T.neg(x!)],
  // d(-x) = -dx
  vjp: ([g], _, { neg }) => [neg(g!)],
  batch: sameLayoutBatch,
});

/** |x|; NOTE: abs'(0) = 0 (the subgradient sign(0)), as JAX. */
export const abs = definePrimitive<"abs", void>({
  name: "abs",
  abstractEval: (ins) => [numericAval("abs", ins)],
  impl: ([x]) => [T.abs(x!)],
  // d|x| = sign(x) dx
  vjp: ([g], { ins: [x] }, { mul, sign }) => [mul(g!, sign(x!))],
  batch: sameLayoutBatch,
});

/** e^x. */
export const exp = floatUnary("exp", T.exp, ([g], { outs: [y] }, { mul }) =>
  // d exp(x) = exp(x) dx — reuse the output
  [mul(g!, y!)],
);

/** e^x − 1, accurate near 0. */
export const expm1 = floatUnary("expm1", T.expm1, ([g], { ins: [x] }, { mul, exp }) =>
  // d expm1(x) = e^x dx. NOTE: not expm1(x) + 1, which cancels to 0 once expm1(x) rounds to −1
  // (x < −17 in float32, x < −37 in float64) although e^x is still a normal number.
  [mul(g!, exp(x!))],
);

/** Natural log; x > 0. */
export const log = floatUnary("log", T.log, ([g], { ins: [x] }, { div }) =>
  // d log(x) = dx / x
  [div(g!, x!)],
);

/** log(1 + x), accurate near 0. */
export const log1p = floatUnary("log1p", T.log1p, ([g], { ins: [x] }, { div, add }) =>
  // d log1p(x) = dx / (1 + x)
  [div(g!, add(x!, 1))],
);

/** √x; NOTE: the gradient at 0 is +Inf, as in JAX. */
export const sqrt = floatUnary("sqrt", T.sqrt, ([g], { outs: [y] }, { div, mul }) =>
  // d √x = dx / (2 √x)
  [div(g!, mul(y!, 2))],
);

/** sin x. */
export const sin = floatUnary("sin", T.sin, ([g], { ins: [x] }, { mul, cos }) =>
  // d sin(x) = cos(x) dx
  [mul(g!, cos(x!))],
);

/** cos x. */
export const cos = floatUnary("cos", T.cos, ([g], { ins: [x] }, { mul, sin, neg }) =>
  // d cos(x) = −sin(x) dx
  [neg(mul(g!, sin(x!)))],
);

/** tanh x. */
export const tanh = floatUnary("tanh", T.tanh, ([g], { outs: [y] }, { mul, sub }) =>
  // d tanh(x) = (1 − tanh²(x)) dx
  [mul(g!, sub(1, mul(y!, y!)))],
);

/**
 * The logistic sigmoid 1 / (1 + e^−x). A primitive, not a composite, because the composite
 * overflows e^−x for x ≪ 0 (JAX keeps `logistic_p` for the same reason).
 */
export const logistic = floatUnary("logistic", T.sigmoid, ([g], { outs: [y] }, { mul, sub }) =>
  // d σ(x) = σ(x) (1 − σ(x)) dx
  [mul(g!, mul(y!, sub(1, y!)))],
);

/** log(1 + e^x), a primitive so that large |x| neither overflows nor loses the gradient. */
export const softplus = floatUnary("softplus", T.softplus, ([g], { ins: [x] }, { mul, sigmoid }) =>
  // d softplus(x) = σ(x) dx
  [mul(g!, sigmoid(x!))],
);

/** sign(x) ∈ {−1, 0, 1}; no gradient (zero almost everywhere). */
export const sign = flatUnary("sign", T.sign);
/** ⌊x⌋; no gradient (zero almost everywhere). */
export const floor = flatUnary("floor", T.floor);
/** ⌈x⌉; no gradient (zero almost everywhere). */
export const ceil = flatUnary("ceil", T.ceil);
/** Round half to even; no gradient (zero almost everywhere). */
export const round = flatUnary("round", T.round);
/** x is NaN (bool); no gradient. */
export const isNaN = predicate("isNaN", T.isNaN);
/** x is finite (bool); no gradient. */
export const isFinite = predicate("isFinite", T.isFinite);
/** Logical not, nonzero = true (bool); no gradient. */
export const logicalNot = predicate("logicalNot", T.logicalNot);

/** The unary primitives, keyed by name. */
export const unaryPrimitives = {
  neg,
  abs,
  exp,
  expm1,
  log,
  log1p,
  sqrt,
  sin,
  cos,
  tanh,
  logistic,
  softplus,
  sign,
  floor,
  ceil,
  round,
  isNaN,
  isFinite,
  logicalNot,
} as const;
