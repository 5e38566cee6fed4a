/**
 * @file Elementwise binary primitives on operands of one shape and dtype. Broadcasting and type
 * promotion happen in the ops layer as explicit `broadcastTo`/`convert` equations, so these rules
 * never unbroadcast.
 */
import * as T from "@rewind/tensor";
import { definePrimitive, noGradient, type VjpRule } from "../Primitive.js";
import { elementwiseBatch } from "./batching.js";
import { boolAval, numericAval, sameAval } from "./helpers.js";

type Kernel = (a: T.Tensor, b: T.Tensor) => T.Tensor;

const arithmetic = <Name extends string>(name: Name, kernel: Kernel, vjp: VjpRule<void>) =>
  definePrimitive<Name, void>({
    name,
    abstractEval: (ins) => [numericAval(name, ins)],
    impl: ([a, b]) => [kernel(a!, b!)],
    vjp,
    batch: elementwiseBatch,
  });

const comparison = <Name extends string>(name: Name, kernel: Kernel) =>
  definePrimitive<Name, void>({
    name,
    abstractEval: (ins) => [boolAval(sameAval(name, ins))],
    impl: ([a, b]) => [kernel(a!, b!)],
    vjp: noGradient,
    batch: elementwiseBatch,
  });

/** a + b. */
export const add = arithmetic("add", T.add, ([g]) =>
  // d(a + b) = da + db
  [g!, g!],
);

/** a − b. */
export const sub = arithmetic("sub", T.sub, ([g], _, { neg }) =>
  // d(a − b) = da − db
  [g!, neg(g!)],
);

/** a · b. */
export const mul = arithmetic("mul", T.mul, ([g], { ins: [a, b], needs }, { mul }) =>
  // d(a b) = b da + a db
  [needs[0] ? mul(g!, b!) : null, needs[1] ? mul(g!, a!) : null],
);

/** a / b (true division). */
export const div = arithmetic("div", T.div, ([g], { ins: [, b], outs: [y], needs }, { div, mul, neg }) =>
  // d(a / b) = da / b − (a / b²) db = da / b − (y / b) db
  [needs[0] ? div(g!, b!) : null, needs[1] ? neg(div(mul(g!, y!), b!)) : null],
);

/**
 * a ** b. NOTE: the cotangent of the exponent uses log(a) only where a > 0 and is 0 elsewhere
 * (a^b of a ≤ 0 is either NaN or constant in b there), so it never injects a NaN of its own.
 */
export const pow = arithmetic("pow", T.pow, ([g], { ins: [a, b], outs: [y], needs }, k) => [
  // ∂/∂a a^b = b a^(b−1)
  needs[0] ? k.mul(g!, k.mul(b!, k.pow(a!, k.sub(b!, 1)))) : null,
  // ∂/∂b a^b = a^b log a
  needs[1] ? k.mul(g!, k.mul(y!, k.where(k.greater(a!, 0), k.log(k.where(k.greater(a!, 0), a!, 1)), 0))) : null,
]);

/**
 * Elementwise max. NOTE: at ties the cotangent is split half and half (as JAX), so
 * max(x, x) still has derivative 1 in x.
 */
export const maximum = arithmetic("maximum", T.maximum, ([g], { ins: [a, b] }, k) => {
  // d max(a, b) = [a > b] da + [b > a] db, halves at a = b
  const tie = k.where(k.equal(a!, b!), k.mul(g!, 0.5), 0);
  return [k.add(k.where(k.greater(a!, b!), g!, 0), tie), k.add(k.where(k.less(a!, b!), g!, 0), tie)];
});

/** Elementwise min; ties split half and half like `maximum`. */
export const minimum = arithmetic("minimum", T.minimum, ([g], { ins: [a, b] }, k) => {
  // d min(a, b) = [a < b] da + [b < a] db, halves at a = b
  const tie = k.where(k.equal(a!, b!), k.mul(g!, 0.5), 0);
  return [k.add(k.where(k.less(a!, b!), g!, 0), tie), k.add(k.where(k.greater(a!, b!), g!, 0), tie)];
});

/** a == b (bool); no gradient. */
export const equal = comparison("equal", T.equal);
/** a != b (bool); no gradient. */
export const notEqual = comparison("notEqual", T.notEqual);
/** a < b (bool); no gradient. */
export const less = comparison("less", T.less);
/** a <= b (bool); no gradient. */
export const lessEqual = comparison("lessEqual", T.lessEqual);
/** a > b (bool); no gradient. */
export const greater = comparison("greater", T.greater);
/** a >= b (bool); no gradient. */
export const greaterEqual = comparison("greaterEqual", T.greaterEqual);
/** a and b, nonzero = true (bool); no gradient. */
export const logicalAnd = comparison("logicalAnd", T.logicalAnd);
/** a or b, nonzero = true (bool); no gradient. */
export const logicalOr = comparison("logicalOr", T.logicalOr);

/** where(cond, a, b): cond is bool of the same shape as a and b. */
export const select = definePrimitive<"select", void>({
  name: "select",
  abstractEval: ([c, a, b]) => {
    const out = sameAval("select", [a!, b!]);
    sameAval("select", [c!, { shape: out.shape, dtype: c!.dtype }]);
    return [out];
  },
  impl: ([c, a, b]) => [T.where(c!, a!, b!)],
  // d where(c, a, b) = where(c, da, 0) + where(c, 0, db); no cotangent for the condition
  vjp: ([g], { ins: [c], needs }, { where }) => [
    null,
    needs[1] ? where(c!, g!, 0) : null,
    needs[2] ? where(c!, 0, g!) : null,
  ],
  // the condition and both branches get one batch axis, like any elementwise operands
  batch: elementwiseBatch,
});

/** The binary primitives, keyed by name. */
export const binaryPrimitives = {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  logicalAnd,
  logicalOr,
  select,
} as const;
