/**
 * @file Elementwise ops on values: unary functions, arithmetic with broadcasting and promotion,
 * comparisons and `where`. Each binds primitives; composites say how they are built.
 */
import type * as T from "@rewind/tensor";
import { isFloating, isTensor, promoteTypes, scalar, shapesEqual } from "@rewind/tensor";
import { bind, isTracing, type Value } from "../core.js";
import { debugState } from "../debugState.js";
import type { AnyPrimitive } from "../Primitive.js";
import * as B from "../primitives/binary.js";
import * as U from "../primitives/unary.js";
import { astype, broadcastTo, expectValue, unify, type ValueLike } from "./lift.js";

const apply = (prim: AnyPrimitive, ins: readonly Value[]): Value => bind(prim, ins, undefined)[0]!;

/** A float unary op: ints and bools are converted to float32 first (as JAX does). */
const floatOp =
  (prim: AnyPrimitive, op: string = prim.name) =>
  (x: Value): Value => {
    const v = expectValue(op, "x", x);
    return apply(prim, [isFloating(v.dtype) ? v : astype(v, "float32")]);
  };

/** A unary op that keeps ints; bool computes as int32. */
const numericOp =
  (prim: AnyPrimitive) =>
  (x: Value): Value => {
    const v = expectValue(prim.name, "x", x);
    return apply(prim, [v.dtype === "bool" ? astype(v, "int32") : v]);
  };

/** −x. @example neg(tensor([1, -2])) // [-1, 2] */
export const neg: (x: Value) => Value = numericOp(U.neg);
/** |x|; the gradient at 0 is 0. @example abs(tensor([-1])) // [1] */
export const abs: (x: Value) => Value = numericOp(U.abs);
/** sign(x) ∈ {−1, 0, 1}; no gradient. @example sign(tensor([-3, 0])) // [-1, 0] */
export const sign: (x: Value) => Value = numericOp(U.sign);
/** e^x. @example exp(tensor([0])) // [1] */
export const exp: (x: Value) => Value = floatOp(U.exp);
/** e^x − 1, accurate near 0. @example expm1(tensor([0])) // [0] */
export const expm1: (x: Value) => Value = floatOp(U.expm1);
/** Natural logarithm. @example log(tensor([1])) // [0] */
export const log: (x: Value) => Value = floatOp(U.log);
/** log(1 + x), accurate near 0. @example log1p(tensor([0])) // [0] */
export const log1p: (x: Value) => Value = floatOp(U.log1p);
/** √x. @example sqrt(tensor([4])) // [2] */
export const sqrt: (x: Value) => Value = floatOp(U.sqrt);
/** sin x. @example sin(tensor([0])) // [0] */
export const sin: (x: Value) => Value = floatOp(U.sin);
/** cos x. @example cos(tensor([0])) // [1] */
export const cos: (x: Value) => Value = floatOp(U.cos);
/** tanh x. @example tanh(tensor([0])) // [0] */
export const tanh: (x: Value) => Value = floatOp(U.tanh);
/** The logistic sigmoid, stable for any |x| (a primitive). @example sigmoid(tensor([0])) // [0.5] */
export const sigmoid: (x: Value) => Value = floatOp(U.logistic, "sigmoid");
/** log(1 + e^x), stable for any |x| (a primitive). @example softplus(tensor([0])) // [ln 2] */
export const softplus: (x: Value) => Value = floatOp(U.softplus);
/** ⌊x⌋; no gradient. @example floor(tensor([1.5])) // [1] */
export const floor: (x: Value) => Value = numericOp(U.floor);
/** ⌈x⌉; no gradient. @example ceil(tensor([1.5])) // [2] */
export const ceil: (x: Value) => Value = numericOp(U.ceil);
/** Round half to even; no gradient. @example round(tensor([2.5])) // [2] */
export const round: (x: Value) => Value = numericOp(U.round);
/** NaN test (bool). @example isNaN(tensor([NaN])) // [true] */
export const isNaN = (x: Value): Value => apply(U.isNaN, [expectValue("isNaN", "x", x)]);
/** Finiteness test (bool). @example isFinite(tensor([Infinity])) // [false] */
export const isFinite = (x: Value): Value => apply(U.isFinite, [expectValue("isFinite", "x", x)]);
/** Logical not (bool). @example logicalNot(tensor([true])) // [false] */
export const logicalNot = (x: Value): Value => apply(U.logicalNot, [expectValue("logicalNot", "x", x)]);

/**
 * A binary op with broadcasting and promotion, computing in at least `minDType` (arithmetic on
 * bools computes in int32, as the tensor kernels do, so a graph's avals match its values).
 */
const binaryOp =
  (prim: AnyPrimitive, minDType?: T.DType) =>
  (a: ValueLike, b: ValueLike): Value => {
    // Fast path for eager code: two concrete tensors of one shape and dtype need no promotion,
    // broadcast or trace bookkeeping, so the kernel runs directly (the same impl bind would call).
    if (
      !isTracing() &&
      !debugState.nans &&
      isTensor(a) &&
      isTensor(b) &&
      a.dtype === b.dtype &&
      (minDType === undefined || promoteTypes(a.dtype, minDType) === a.dtype) &&
      shapesEqual(a.shape, b.shape)
    ) {
      return prim.impl([a, b], undefined)[0]!;
    }
    return apply(prim, unify(prim.name, [a, b], minDType));
  };

/** a + b with broadcasting. @example add(tensor([1, 2]), 1) // [2, 3] */
export const add: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.add, "int32");
/** a − b with broadcasting. @example sub(tensor([1, 2]), 1) // [0, 1] */
export const sub: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.sub, "int32");
/** a · b with broadcasting. @example mul(tensor([1, 2]), 3) // [3, 6] */
export const mul: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.mul, "int32");
/** True division a / b (ints divide as float32). @example div(tensor([1]), 2) // [0.5] */
export const div: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.div, "float32");
/** a ** b with broadcasting. @example pow(tensor([2]), 3) // [8] */
export const pow: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.pow, "int32");
/** Elementwise max (ties split the gradient). @example maximum(tensor([1, 5]), 3) // [3, 5] */
export const maximum: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.maximum, "int32");
/** Elementwise min (ties split the gradient). @example minimum(tensor([1, 5]), 3) // [1, 3] */
export const minimum: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.minimum, "int32");
/** a == b (bool). @example equal(tensor([1, 2]), 2) // [false, true] */
export const equal: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.equal);
/** a != b (bool). @example notEqual(tensor([1, 2]), 2) // [true, false] */
export const notEqual: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.notEqual);
/** a < b (bool). @example less(tensor([1, 2]), 2) // [true, false] */
export const less: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.less);
/** a <= b (bool). @example lessEqual(tensor([1, 2]), 2) // [true, true] */
export const lessEqual: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.lessEqual);
/** a > b (bool). @example greater(tensor([1, 2]), 1) // [false, true] */
export const greater: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.greater);
/** a >= b (bool). @example greaterEqual(tensor([1, 2]), 2) // [false, true] */
export const greaterEqual: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.greaterEqual);
/** Logical and, nonzero = true (bool). @example logicalAnd(tensor([true]), tensor([false])) // [false] */
export const logicalAnd: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.logicalAnd);
/** Logical or, nonzero = true (bool). @example logicalOr(tensor([true]), tensor([false])) // [true] */
export const logicalOr: (a: ValueLike, b: ValueLike) => Value = binaryOp(B.logicalOr);

/**
 * Picks `a` where `cond` is true (nonzero) and `b` elsewhere, broadcasting all three; branches
 * promote like arithmetic (two plain numbers give float32).
 * @example where(tensor([true, false]), 1, tensor([5, 6])) // [1, 6]
 */
export const where = (cond: ValueLike, a: ValueLike, b: ValueLike): Value => {
  const c0 = typeof cond === "number" ? scalar(cond, "bool") : expectValue("where", "cond", cond);
  const c = c0.dtype === "bool" ? c0 : notEqual(c0, 0);
  const branches: ValueLike[] = typeof a === "number" && typeof b === "number" ? [scalar(a), b] : [a, b];
  const [av, bv] = unify("where", branches, undefined, c.shape);
  return apply(B.select, [broadcastTo(c, av!.shape), av!, bv!]);
};

/**
 * max(x, 0), NaN staying NaN; NOTE: relu'(0) = 0, because it is where(x <= 0, 0, x).
 * @example relu(tensor([-1, 2])) // [0, 2]
 */
export const relu = (x: Value): Value => {
  const v = expectValue("relu", "x", x);
  // `lessEqual` is false for NaN, so NaN passes through (as the kernel and JAX do); at 0 the
  // gradient flows to the constant branch, so relu'(0) = 0.
  return where(lessEqual(v, 0), 0, v);
};
/** x². @example square(tensor([3])) // [9] */
export const square = (x: Value): Value => {
  const v = expectValue("square", "x", x);
  return mul(v, v);
};
/** 1 / x. @example reciprocal(tensor([4])) // [0.25] */
export const reciprocal = (x: Value): Value => div(1, expectValue("reciprocal", "x", x));
/** 1 / √x. @example rsqrt(tensor([4])) // [0.5] */
export const rsqrt = (x: Value): Value => div(1, sqrt(expectValue("rsqrt", "x", x)));
