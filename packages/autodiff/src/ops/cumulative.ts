/**
 * @file Cumulative ops along one axis (cumsum, cumprod, cummax, cummin, logcumsumexp, and the
 * linear recurrence linearScan) on values.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import { expectFlag, expectOptions } from "../check.js";
import type { AnyPrimitive } from "../Primitive.js";
import * as C from "../primitives/cumulative.js";
import { astype, expectValue, unify, type ValueLike } from "./lift.js";

/** Which axis to accumulate along and in which direction. */
export interface CumulativeOptions {
  /** The axis; negative counts from the end (default −1: the last axis; a tensor is never flattened). */
  readonly axis?: number;
  /** Accumulate from the end of the axis towards its start (default false). */
  readonly reverse?: boolean;
}

/** Checks `options` for `op` on a value of rank `rank`; returns the primitive's params. */
const readOptions = (op: string, rank: number, options: unknown): C.CumulativeParams => {
  const o = expectOptions(op, options, ["axis", "reverse"]);
  const reverse = expectFlag(op, "options.reverse", o.reverse) ?? false;
  if (rank === 0)
    T.fail({
      _tag: "ValueError",
      op,
      arg: "x",
      detail: "a scalar (shape []) has no axis to accumulate along",
      fix: "reshape it to [1] first, or call it on a tensor of rank 1 or more",
    });
  if (o.axis !== undefined && (typeof o.axis !== "number" || !Number.isInteger(o.axis)))
    T.fail({
      _tag: "ValueError",
      op,
      arg: "options.axis",
      detail: `axis must be one integer, got ${Array.isArray(o.axis) ? "an array" : typeof o.axis}`,
      fix: `pass one axis in [${-rank}, ${rank - 1}], or omit it for the last axis`,
    });
  const axis = T.normalizeAxis(op, "options.axis", (o.axis as number | undefined) ?? -1, rank);
  return Object.freeze({ axis, reverse });
};

const cumulative =
  (op: string, prim: AnyPrimitive, lift: (v: Value) => Value) =>
  (x: Value, options: CumulativeOptions = {}): Value => {
    const v = expectValue(op, "x", x);
    return bind(prim, [lift(v)], readOptions(op, v.shape.length, options))[0]!;
  };

/** bool computes as int32 (as `sum` and `prod` do). */
const intOfBool = (v: Value): Value => (v.dtype === "bool" ? astype(v, "int32") : v);
const asIs = (v: Value): Value => v;
const asFloat = (v: Value): Value => (T.isFloating(v.dtype) ? v : astype(v, "float32"));

/**
 * Running sum along an axis (default the last); `reverse` sums from the end. int32 wraps and bool
 * sums as int32; float32 accumulates in float64, so the last entry equals `sum` over the axis.
 * @example cumsum(tensor([[1, 2, 3], [4, 5, 6]]), { axis: 1 }) // [[1, 3, 6], [4, 9, 15]]
 */
export const cumsum: (x: Value, options?: CumulativeOptions) => Value = cumulative("cumsum", C.cumsum, intOfBool);

/**
 * Running product along an axis (default the last); `reverse` multiplies from the end. The
 * gradient is exact with zeros present (at every order).
 * @example cumprod(tensor([1, 2, 3, 4])) // [1, 2, 6, 24]
 */
export const cumprod: (x: Value, options?: CumulativeOptions) => Value = cumulative("cumprod", C.cumprod, intOfBool);

/**
 * Running maximum along an axis (default the last); keeps the dtype; NaN sticks. Each output's
 * gradient is shared equally among the entries that attain it, as `max` does.
 * @example cummax(tensor([1, 3, 2, 5])) // [1, 3, 3, 5]
 */
export const cummax: (x: Value, options?: CumulativeOptions) => Value = cumulative("cummax", C.cummax, asIs);

/**
 * Running minimum along an axis (default the last); keeps the dtype; NaN sticks. Each output's
 * gradient is shared equally among the entries that attain it, as `min` does.
 * @example cummin(tensor([3, 1, 2, 0])) // [3, 1, 1, 0]
 */
export const cummin: (x: Value, options?: CumulativeOptions) => Value = cumulative("cummin", C.cummin, asIs);

/**
 * Running log Σ exp along an axis (default the last), exact for ±1000 and −Inf entries (a running
 * max shift) and with a gradient that never overflows; ints and bools give float32.
 * @example logcumsumexp(tensor([0, 0, 0])) // [0, 0.6931, 1.0986]
 */
export const logcumsumexp: (x: Value, options?: CumulativeOptions) => Value = cumulative(
  "logcumsumexp",
  C.logcumsumexp,
  asFloat,
);

/**
 * The linear recurrence h_t = a_t · h_{t−1} + b_t along an axis (default the last), starting from
 * h = 0 before the first step; `reverse` runs from the end (h_t = a_t · h_{t+1} + b_t). One
 * sequential pass; `a` and `b` broadcast together and compute in float (ints give float32).
 * Differentiable in both operands at every order. This is the low-level op (h starts at 0, any
 * axis, no lengths); `linearRecurrence` in @rewind/rnn adds an initial state, `rnn`'s
 * `[batch, time, ...]` layout and per-sample lengths on top of it.
 * @example linearScan(tensor([1, 2, 3]), tensor([1, 1, 1])) // [1, 3, 10]
 */
export const linearScan = (a: ValueLike, b: ValueLike, options: CumulativeOptions = {}): Value => {
  const [av, bv] = unify("linearScan", [a, b], "float32");
  return bind(C.linearScan, [av!, bv!], readOptions("linearScan", av!.shape.length, options))[0]!;
};
