/**
 * @file Masks of valid steps and reductions over time that see only them. Written with the graph
 * ops of @rewind/autodiff, so they work on concrete tensors and on traced values alike (inside
 * `grad`, `jit` and `scan`).
 *
 * Padding is removed with `where`, never multiplied by 0: a NaN or an infinity in a padded
 * position (garbage the model produced there, or a NaN `padValue`) then reaches neither the value
 * nor the gradient, since `where`'s gradient sends exactly 0 to the branch it did not pick.
 */
import * as T from "@rewind/tensor";
import { check, keysOf, oneOf, optional } from "@rewind/tensor/internal/check";
import {
  astype,
  div,
  expandDims,
  greaterEqual,
  isValue,
  less,
  maximum,
  reshape,
  sub,
  sum,
  where,
  type Value,
} from "@rewind/autodiff";
import { validateLengths } from "../lengths.js";
import { checkOptions, checkValue } from "../util.js";
import type { Side } from "./pad.js";

/** Valid steps: per-sample lengths (int32 `[B]` or numbers), or a bool mask `[B, T]`. */
export type ValidSteps = Value | readonly number[];

/** Options of `sequenceMask`. */
export interface SequenceMaskOptions {
  /** `"post"` (default): valid steps come first; `"pre"`: they come last (see `PadOptions.padding`). */
  readonly padding?: Side;
}

const sideRule = optional(oneOf(["pre", "post"]));

/** The batch that lengths imply (their size), before they are checked against themselves. */
const batchOf = (lengths: unknown): number =>
  Array.isArray(lengths) ? lengths.length : isValue(lengths) && lengths.shape.length === 1 ? lengths.shape[0]! : 0;

const maskFrom = (len: Value, time: number, padding: Side): Value => {
  const t = expandDims(T.arange(time, undefined, 1, "int32"), 0);
  const n = expandDims(len, 1);
  return padding === "pre" ? greaterEqual(t, sub(time, n)) : less(t, n);
};

/**
 * `mask[b, t]` is true while step t holds sample b's data: bool `[B, time]`, from per-sample
 * `lengths` (int32 `[B]` or numbers, each in [0, time]). Batch-major, unlike `stepMask`. Works on
 * traced lengths.
 * @throws TensorException for lengths that are not integers in [0, time] or a bad `time`.
 * @example sequenceMask([2, 0, 3], 3) // [[true, true, false], [false, false, false], [true, true, true]]
 */
export const sequenceMask = (
  lengths: Value | readonly number[],
  time: number,
  options: SequenceMaskOptions = {},
): Value => {
  const op = "sequenceMask";
  checkOptions(op, "options", options, keysOf<SequenceMaskOptions>({ padding: true }));
  const padding = check(op, "options.padding", options.padding, sideRule) ?? "post";
  return maskFrom(validateLengths(op, lengths, batchOf(lengths), time), time, padding);
};

/**
 * The bool `[batch, time]` mask of `valid`: a bool mask as given (its shape checked), or the
 * mask of per-sample lengths with the valid steps first.
 * @example validMask("maskedSum", "lengths", [2, 1], 2, 3)
 */
export const validMask = (op: string, arg: string, valid: ValidSteps, batch: number, time: number): Value => {
  if (isValue(valid) && valid.dtype === "bool") {
    if (valid.shape.length !== 2 || valid.shape[0] !== batch || valid.shape[1] !== time)
      T.fail({
        _tag: "ShapeError",
        op,
        arg,
        shapes: [valid.shape],
        detail:
          `a bool mask must have shape [${batch}, ${time}] (batch and time of the values), ` +
          `got ${T.formatShape(valid.shape)}`,
        fix: "pass the mask of this batch (padSequences(...).mask), or per-sample lengths",
      });
    return valid;
  }
  return maskFrom(validateLengths(op, valid, batch, time), time, "post");
};

/** Throws unless `x` is a value with batch and time axes, `[B, T, ...]`. */
export const checkBatchMajor = (op: string, arg: string, x: Value, what = "values"): void => {
  checkValue(op, arg, x);
  if (x.shape.length < 2)
    T.fail({
      _tag: "ShapeError",
      op,
      arg,
      shapes: [x.shape],
      detail: `${arg} must be batch-major ${what} [batch, time, ...], got a rank-${x.shape.length} value`,
      fix: "add the batch and time axes (swap the leading axes of time-major values)",
    });
};

/**
 * `mask` `[B, T]` reshaped to broadcast against `x` `[B, T, ...]`.
 * @example where(broadcastMask(m, x), x, 0)
 */
export const broadcastMask = (mask: Value, x: Value): Value =>
  reshape(mask, [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)]);

/** Options of `maskedSum` and `maskedMean`. */
export interface MaskedReduceOptions {
  /**
   * `"sample"` (default): reduce over time only, one result per sample, `[B, ...features]`;
   * `maskedMean` divides each by that sample's number of valid steps. `"batch"`: reduce over
   * batch and time, `[...features]`; `maskedMean` divides by the number of valid positions in
   * the whole batch (so long samples weigh more, as in a per-token loss).
   */
  readonly per?: "sample" | "batch";
}

const perRule = optional(oneOf(["sample", "batch"]));

const reduceValid = (op: string, x: Value, valid: ValidSteps, options: MaskedReduceOptions) => {
  checkBatchMajor(op, "x", x);
  checkOptions(op, "options", options, keysOf<MaskedReduceOptions>({ per: true }));
  const per = check(op, "options.per", options.per, perRule) ?? "sample";
  const mask = validMask(op, "lengths", valid, x.shape[0]!, x.shape[1]!);
  const axis = per === "sample" ? [1] : [0, 1];
  return { total: sum(where(broadcastMask(mask, x), x, 0), { axis }), mask, per, axis };
};

/**
 * The sum over each sample's valid steps of `x` `[B, T, ...]`: `[B, ...]` (or, with
 * `per: "batch"`, over the whole batch's valid positions, `[...]`). `lengths` are per-sample
 * lengths (valid steps first) or a bool mask `[B, T]`. Padding never reaches the result or the
 * gradient, even when it holds NaN. Works on traced values.
 * @throws TensorException for an `x` without batch and time axes or lengths that do not fit it.
 * @example maskedSum(outputs, [3, 1]) // [2, hidden]: sample 0 sums 3 steps, sample 1 one step
 */
export const maskedSum = (x: Value, lengths: ValidSteps, options: MaskedReduceOptions = {}): Value =>
  reduceValid("maskedSum", x, lengths, options).total;

/**
 * The mean over valid steps of `x` `[B, T, ...]`. With `per: "sample"` (default) each sample's
 * sum over its own valid steps divided by its own length, `[B, ...]`; with `per: "batch"` the sum
 * over every valid position divided by their number, `[...]`. A sample (or batch) without valid
 * steps gives 0, not NaN. Integer x gives float32, like `mean`. Works on traced values.
 * @throws TensorException for an `x` without batch and time axes or lengths that do not fit it.
 * @example maskedMean(outputs, lengths) // [B, hidden]: each sample's mean over its valid steps
 */
export const maskedMean = (x: Value, lengths: ValidSteps, options: MaskedReduceOptions = {}): Value => {
  const { total, mask, per, axis } = reduceValid("maskedMean", x, lengths, options);
  const dtype = T.isFloating(x.dtype) ? x.dtype : "float32";
  const count = maximum(sum(astype(mask, dtype), { axis }), 1);
  const rest = x.shape.slice(2).map(() => 1);
  return per === "sample"
    ? div(astype(total, dtype), reshape(count, [x.shape[0]!, ...rest]))
    : div(astype(total, dtype), count);
};
