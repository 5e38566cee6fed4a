/**
 * @file Values that shape differentiation or stand for constants: stopGradient, zerosLike, onesLike.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import { stopGradient as stopPrim } from "../primitives/special.js";
import { broadcastTo, expectValue } from "./lift.js";

/**
 * The identity, but no gradient flows through it (to every transform above it).
 * @example grad((x) => mul(stopGradient(x), x))(scalar(3)) // 3, not 6
 */
export const stopGradient = (x: Value): Value => bind(stopPrim, [expectValue("stopGradient", "x", x)], undefined)[0]!;

/**
 * Zeros with the shape and dtype of `x` (a broadcast literal under tracing, not a captured buffer).
 * @example zerosLike(ones([2])) // [0, 0]
 */
export const zerosLike = (x: Value, dtype?: T.DType): Value => {
  const v = expectValue("zerosLike", "x", x);
  return broadcastTo(T.scalar(0, dtype === undefined ? v.dtype : checkDType("zerosLike", dtype)), v.shape);
};

/**
 * Ones with the shape and dtype of `x`.
 * @example onesLike(zeros([2])) // [1, 1]
 */
export const onesLike = (x: Value, dtype?: T.DType): Value => {
  const v = expectValue("onesLike", "x", x);
  return broadcastTo(T.scalar(1, dtype === undefined ? v.dtype : checkDType("onesLike", dtype)), v.shape);
};

const checkDType = (op: string, dtype: unknown): T.DType =>
  T.isDType(dtype)
    ? dtype
    : T.fail({
        _tag: "DTypeError",
        op,
        arg: "dtype",
        detail: "unknown dtype",
        fix: 'use one of "float32", "float64", "int32", "bool"',
      });
