/**
 * @file Cumulative primitives along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp, and
 * linearScan (h_t = a_t · h_{t−1} + b_t).
 *
 * Each VJP is written with graph ops only, so it can be differentiated again. Three of them need
 * the reverse running sum of a cotangent weighted by per-step factors, R_i = g_i + a_i R_{i+1}:
 * that is `linearScan`, exact and without division, so zeros (cumprod), ties (cummax) and −Inf
 * (logcumsumexp) need no special cases that would break the second derivative.
 */
import * as T from "@rewind/tensor";
import type { Aval } from "../Graph.js";
import type { Value } from "../core.js";
import type { Kit } from "../kit.js";
import { definePrimitive, type BatchRule, type VjpRule } from "../Primitive.js";
import { firstDim, materialize, shiftAxis } from "./batching.js";
import { floatAval, numericAval } from "./helpers.js";
import { shift } from "./shift.js";

/** Params of a cumulative primitive: the axis (non-negative) and the direction. */
export interface CumulativeParams {
  /** The axis accumulated along, non-negative. */
  readonly axis: number;
  /** True: from the end of the axis towards its start. */
  readonly reverse: boolean;
}

/**
 * The aval check of the cumulative primitives: the output is the input's aval, which the kernel
 * keeps exactly (so `jit` may read the kernel's result as that aval). Bool is refused where the
 * kernel would compute in int32 (`numeric`: the ops convert first).
 */
const sameAval = (op: string, [x]: readonly Aval[], { axis }: CumulativeParams, numeric = false): readonly Aval[] => {
  if (!(axis >= 0 && axis < x!.shape.length))
    T.fail({ _tag: "AxisError", op, arg: "params.axis", axis, rank: x!.shape.length });
  return [numeric ? numericAval(op, [x!]) : x!];
};

/** Batching: the axis shifts past the batch axis, which stays where it is. */
const cumulativeBatch: BatchRule<CumulativeParams> = ([x], { dims: [d], params, bind }) => [
  bind([x!], { axis: shiftAxis(params.axis, d!), reverse: params.reverse }),
  [d!],
];

/**
 * A VJP written for the forward direction, applied along `reverse` too: flip the primal values
 * and the cotangent, pull back, flip the result (flips are free views in compiled code).
 */
const directed =
  (rule: (k: Kit, x: Value, y: Value, g: Value, axis: number) => Value): VjpRule<CumulativeParams> =>
  ([g], { ins: [x], outs: [y], params: { axis, reverse } }, k) => {
    if (!reverse) return [rule(k, x!, y!, g!, axis)];
    const f = (v: Value) => k.flip(v, axis);
    return [f(rule(k, f(x!), f(y!), f(g!), axis))];
  };

/** Running Σ along an axis (ints wrap; float32 accumulates in float64 as `sum`). */
export const cumsum = definePrimitive<"cumsum", CumulativeParams>({
  name: "cumsum",
  abstractEval: (ins, params) => sameAval("cumsum", ins, params, true),
  impl: ([x], { axis, reverse }) => [T.cumsum(x!, { axis, reverse })],
  // d cumsum(x) = the running sum of the cotangent in the other direction
  vjp: ([g], { params: { axis, reverse } }, k) => [k.cumsum(g!, { axis, reverse: !reverse })],
  batch: cumulativeBatch,
});

/**
 * Running Π along an axis. NOTE: the cotangent is dx_i = Σ_{j≥i} g_j Π_{k≤j, k≠i} x_k, computed
 * as E_i · R_i with E_i = Π_{k<i} x_k (the output shifted by one) and R_i = g_i + x_{i+1} R_{i+1}:
 * no division, so it is exact with zeros, and so is its own derivative.
 */
export const cumprod = definePrimitive<"cumprod", CumulativeParams>({
  name: "cumprod",
  abstractEval: (ins, params) => sameAval("cumprod", ins, params, true),
  impl: ([x], { axis, reverse }) => [T.cumprod(x!, { axis, reverse })],
  // d y_j / d x_i = Π_{k≤j, k≠i} x_k for i ≤ j
  vjp: directed((k, x, y, g, axis) => {
    const exclusive = shift(k, y, axis, 1, 1);
    return k.mul(exclusive, k.linearScan(shift(k, x, axis, -1, 0), g, { axis, reverse: true }));
  }),
  batch: cumulativeBatch,
});

/**
 * The cotangent of a running max or min. NOTE: output j's cotangent is shared equally among the
 * positions k ≤ j that attain y_j (as `max` shares among ties), so the last output of cummax has
 * the gradient of `max`. Ties of y_j form runs ("segments") of equal outputs; within one, `count`
 * is the running number of hits and each hit i receives Σ_{j≥i in its segment} g_j / count_j.
 */
const extremeVjp = directed((k, x, y, g, axis) => {
  const hit = k.equal(x, y);
  // 1 where output j continues the segment of output j − 1. Position 0's value is never read (it
  // multiplies the zero before the start, and the shifted copy drops it), so any fill will do.
  const cont = k.astype(k.equal(y, shift(k, y, axis, 1, 0)), x.dtype);
  const count = k.linearScan(cont, k.astype(hit, x.dtype), { axis, reverse: false });
  // count_j ≥ 1 except in a NaN run, which has no hits to receive anything.
  const share = k.div(g, k.maximum(count, 1));
  return k.where(hit, k.linearScan(shift(k, cont, axis, -1, 0), share, { axis, reverse: true }), 0);
});

/** Running max along an axis; keeps the dtype; NaN sticks. Ties share the cotangent (see extremeVjp). */
export const cummax = definePrimitive<"cummax", CumulativeParams>({
  name: "cummax",
  abstractEval: (ins, params) => sameAval("cummax", ins, params),
  impl: ([x], { axis, reverse }) => [T.cummax(x!, { axis, reverse })],
  // d y_j = dx at the positions attaining y_j (shared among ties)
  vjp: extremeVjp,
  batch: cumulativeBatch,
});

/** Running min along an axis; keeps the dtype; NaN sticks. Ties share the cotangent (see extremeVjp). */
export const cummin = definePrimitive<"cummin", CumulativeParams>({
  name: "cummin",
  abstractEval: (ins, params) => sameAval("cummin", ins, params),
  impl: ([x], { axis, reverse }) => [T.cummin(x!, { axis, reverse })],
  // d y_j = dx at the positions attaining y_j (shared among ties)
  vjp: extremeVjp,
  batch: cumulativeBatch,
});

/**
 * Running log Σ exp along an axis (floats only; the op converts ints). A primitive because a
 * composite would need one max shift for the whole axis, and early entries far below the axis'
 * max would underflow to −Inf. NOTE: the cotangent dx_i = Σ_{j≥i} g_j exp(x_i − y_j) is computed
 * as exp(x_i − y_i) · R_i with R_i = g_i + exp(y_i − y_{i+1}) R_{i+1}: every exponent is ≤ 0, so
 * nothing overflows; non-finite outputs (−Inf prefixes, +Inf entries) give factors of exactly 0
 * without ever computing Inf − Inf.
 */
export const logcumsumexp = definePrimitive<"logcumsumexp", CumulativeParams>({
  name: "logcumsumexp",
  abstractEval: (ins, params) => sameAval("logcumsumexp", [floatAval("logcumsumexp", ins)], params),
  impl: ([x], { axis, reverse }) => [T.logcumsumexp(x!, { axis, reverse })],
  // d y_j / d x_i = exp(x_i − y_j) for i ≤ j
  vjp: directed((k, x, y, g, axis) => {
    const finite = k.isFinite(y);
    const weight = k.exp(k.sub(k.where(finite, x, -Infinity), k.where(finite, y, 0)));
    // exp(y_i − y_{i+1}), 0 where either is not finite (y never decreases, so the exponent is ≤ 0).
    const next = shift(k, k.where(finite, y, Infinity), axis, -1, Infinity);
    const factor = k.exp(k.sub(k.where(finite, y, -Infinity), next));
    return k.mul(weight, k.linearScan(factor, g, { axis, reverse: true }));
  }),
  batch: cumulativeBatch,
});

/** Batching linearScan: both operands get the batch axis of the first batched one; the axis shifts past it. */
const linearScanBatch: BatchRule<CumulativeParams> = (ins, { dims, size, params, bind }, k) => {
  const d = firstDim(dims);
  const outs = bind(
    ins.map((v, i) => materialize(k, v, dims[i]!, size, d)),
    { axis: shiftAxis(params.axis, d), reverse: params.reverse },
  );
  return [outs, [d]];
};

/**
 * h_t = a_t · h_{t−1} + b_t along an axis, h_{−1} = 0 (`reverse`: h_t = a_t · h_{t+1} + b_t): one
 * sequential pass of its kernel. A primitive so that the VJPs above cost a few passes, not the
 * ⌈log2 n⌉ rounds of elementwise ops a parallel prefix would take. NOTE: its own VJP is the same
 * recurrence run the other way: ct_b_t = ct_t + a_{t+1} ct_b_{t+1}, and ct_a_t = ct_b_t · h_{t−1}.
 */
export const linearScan = definePrimitive<"linearScan", CumulativeParams>({
  name: "linearScan",
  abstractEval: ([a, b], params) => sameAval("linearScan", [floatAval("linearScan", [a!, b!])], params),
  impl: ([a, b], { axis, reverse }) => [T.linearScan(a!, b!, { axis, reverse })],
  // dh_t = a_t dh_{t−1} + h_{t−1} da_t + db_t, transposed
  vjp: ([g], { ins: [a], outs: [h], params: { axis, reverse } }, k) => {
    const toward = reverse ? 1 : -1;
    const ctB = k.linearScan(shift(k, a!, axis, toward, 0), g!, { axis, reverse: !reverse });
    return [k.mul(ctB, shift(k, h!, axis, -toward, 0)), ctB];
  },
  batch: linearScanBatch,
});

/** The cumulative primitives, keyed by name. */
export const cumulativePrimitives = { cumsum, cumprod, cummax, cummin, logcumsumexp, linearScan } as const;
