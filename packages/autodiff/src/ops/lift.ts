/**
 * @file How ops turn their arguments into graph operands: JavaScript numbers become weakly typed
 * scalars, mixed dtypes are promoted with explicit `convert` equations, and differing shapes get
 * explicit `broadcastTo` equations. After this file, every primitive sees one shape and dtype.
 */
import * as T from "@rewind/tensor";
import { DETACHED_FIX, detachedTensorProblem } from "@rewind/tensor/internal/check";
import { bind, isValue, type Value } from "../core.js";
import { graphFail } from "../errors.js";
import { broadcastTo as broadcastPrim, convert } from "../primitives/shape.js";

/** An op argument: a tensor, a tracer, or a plain number (weakly typed, as in JAX). */
export type ValueLike = Value | number;

/**
 * Checks that `x` is a tensor or tracer, with an error naming the op and argument otherwise.
 * @example expectValue("exp", "x", zeros([2]))
 */
export const expectValue = (op: string, arg: string, x: unknown): Value => {
  if (isValue(x)) return x;
  const gone = detachedTensorProblem(x);
  if (gone !== undefined)
    return graphFail({ _tag: "InvalidArgument", op, arg, detail: `expected a tensor, got ${gone}`, fix: DETACHED_FIX });
  return graphFail({
    _tag: "InvalidArgument",
    op,
    arg,
    detail: `expected a tensor or traced value, got ${x === null ? "null" : Array.isArray(x) ? "an array" : typeof x}`,
    fix: "wrap plain data with tensor(...) or fromArray(...) from @rewind/tensor",
  });
};

/**
 * Converts `x` to `dtype` with an explicit `convert` equation (nothing when it already matches).
 * @example astype(tensor([1.5]), "int32")
 */
export const astype = (x: Value, dtype: T.DType): Value => {
  const v = expectValue("astype", "x", x);
  if (v.dtype === dtype) return v;
  if (!T.isDType(dtype)) {
    graphFail({
      _tag: "InvalidArgument",
      op: "astype",
      arg: "dtype",
      detail: `unknown dtype ${typeof dtype === "string" ? JSON.stringify(dtype) : typeof dtype}`,
      fix: 'use one of "float32", "float64", "int32", "bool"',
    });
  }
  return bind(convert, [v], { dtype })[0]!;
};

/**
 * Broadcasts `x` to `shape` with an explicit `broadcastTo` equation (nothing when equal).
 * @example broadcastTo(tensor([1, 2]), [3, 2]).shape // [3, 2]
 */
export const broadcastTo = (x: ValueLike, shape: readonly number[]): Value => {
  const v = typeof x === "number" ? T.scalar(x) : expectValue("broadcastTo", "x", x);
  if (T.shapesEqual(v.shape, shape)) return v;
  const target = T.validateShape("broadcastTo", "shape", shape);
  // The shapes must broadcast to exactly `target` (a trace would otherwise record a wrong aval).
  const lead = target.length - v.shape.length;
  if (lead < 0 || v.shape.some((d, i) => d !== 1 && d !== target[lead + i])) {
    T.fail({
      _tag: "ShapeError",
      op: "broadcastTo",
      arg: "shape",
      shapes: [v.shape, target],
      detail: `cannot broadcast shape ${T.formatShape(v.shape)} to ${T.formatShape(target)}`,
      fix: "each axis of x (aligned on the right) must equal the target's or be 1",
    });
  }
  return bind(broadcastPrim, [v], { shape: target })[0]!;
};

/** The dtype a JavaScript number takes next to tensors of `dtype` (weak typing). */
const weakDType = (n: number, dtype: T.DType): T.DType =>
  T.isFloating(dtype) ? dtype : Number.isInteger(n) ? (dtype === "bool" ? "int32" : dtype) : "float32";

/**
 * Brings op arguments to one dtype and one shape: numbers are weakly typed, tensors promote on
 * `bool < int32 < float32 < float64`, and `minDType` lifts the result (e.g. "float32" for `div`).
 * `alsoBroadcastWith` joins the broadcast without being returned (where's condition).
 * @example unify("add", [tensor([1, 2]), 1]) // two float32[2] operands
 */
export const unify = (
  op: string,
  args: readonly ValueLike[],
  minDType?: T.DType,
  alsoBroadcastWith?: T.Shape,
): Value[] => {
  const values = args.map((a, i) => (typeof a === "number" ? a : expectValue(op, `arg${i}`, a)));
  const tensors = values.filter((v): v is Value => typeof v !== "number");
  if (tensors.length === 0) {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "operands",
      detail: "all operands are plain numbers",
      fix: "pass at least one tensor (e.g. scalar(2))",
    });
  }
  let dtype = tensors.map((t) => t.dtype).reduce(T.promoteTypes);
  for (const v of values) if (typeof v === "number") dtype = T.promoteTypes(dtype, weakDType(v, dtype));
  if (minDType !== undefined) dtype = T.promoteTypes(dtype, minDType);
  values.forEach((v, i) => {
    // Weak typing keeps an integer number integer; one int32 cannot hold would wrap silently.
    if (typeof v === "number" && !T.isFloating(dtype) && !(v >= -2147483648 && v <= 2147483647)) {
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: `arg${i}`,
        detail: `the number ${v} does not fit the ${dtype} dtype of the other operand`,
        fix: 'cast the tensor operand to a float first (astype(t, "float32")), or pass a number in int32 range',
      });
    }
  });
  const shapes = tensors.map((t) => t.shape);
  const shape = T.broadcastShapes(op, ...(alsoBroadcastWith === undefined ? shapes : [alsoBroadcastWith, ...shapes]));
  return values.map((v) => broadcastTo(typeof v === "number" ? T.scalar(v, dtype) : astype(v, dtype), shape));
};
