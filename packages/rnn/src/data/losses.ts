/**
 * @file Losses over padded sequences that count only valid positions: the mean is over the
 * positions that hold data (never over the padded length, the classic silent bug of recurrent
 * models), and padding reaches neither the value nor the gradient. Graph ops only, so they are
 * differentiable and run inside `grad` and `jit`.
 */
import * as T from "@rewind/tensor";
import { check, keysOf, numberIn, oneOf, optional, rule } from "@rewind/tensor/internal/check";
import {
  add,
  astype,
  div,
  expandDims,
  logicalAnd,
  logSoftmax,
  maximum,
  mean,
  mul,
  neg,
  notEqual,
  oneHot,
  square,
  sub,
  sum,
  where,
  type Value,
} from "@rewind/autodiff";
import { checkOptions, checkValue } from "../util.js";
import { broadcastMask, checkBatchMajor, validMask, type ValidSteps } from "./masks.js";

/** How a sequence loss reduces its per-position losses. */
export type SequenceReduction = "mean" | "sum" | "none";

/** Options of `sequenceMse` (and the reduction of `sequenceCrossEntropy`). */
export interface SequenceLossOptions {
  /**
   * `"mean"` (default): the sum over valid positions divided by their number (a scalar; 0 when
   * there is none). `"sum"`: the sum over valid positions (add sums across batches and divide
   * by the total count for an exact per-position mean of a dataset). `"none"`: the per-position
   * losses, 0 at padded positions.
   */
  readonly reduction?: SequenceReduction;
}

/** Options of `sequenceCrossEntropy`. */
export interface SequenceCrossEntropyOptions extends SequenceLossOptions {
  /**
   * ε in [0, 1]: the target distribution is (1 − ε)·one-hot + ε/V uniform, as PyTorch's
   * `label_smoothing` (default 0).
   */
  readonly labelSmoothing?: number;
  /** Positions whose target equals this id are left out, like padding (e.g. -100, as in PyTorch). */
  readonly ignoreIndex?: number;
}

const reductionRule = optional(oneOf(["mean", "sum", "none"]));
const smoothingRule = optional(numberIn(0, 1, "[]"));
const indexRule = rule(
  "an integer",
  (x) => x === undefined || Number.isSafeInteger(x),
  "pass the target id to ignore, e.g. -100",
);

const reduce = (perPosition: Value, valid: Value, reduction: SequenceReduction, perStep: number): Value => {
  if (reduction === "none") return perPosition;
  const total = sum(perPosition);
  if (reduction === "sum") return total;
  const count = mul(sum(astype(valid, perPosition.dtype)), perStep);
  return div(total, maximum(count, 1));
};

const refuseTargets = (op: string, detail: string, fix: string, shapes?: readonly T.Shape[]): never =>
  shapes === undefined
    ? T.fail({ _tag: "ValueError", op, arg: "targets", detail, fix })
    : T.fail({ _tag: "ShapeError", op, arg: "targets", shapes, detail, fix });

/** Concrete targets at valid positions must be class ids in [0, classes); traced ones cannot be checked. */
const checkTargetIds = (op: string, targets: Value, valid: Value, classes: number): void => {
  if (!T.isTensor(targets) || !T.isTensor(valid)) return;
  const time = targets.shape[1]!;
  for (let k = 0; k < targets.data.length; k++) {
    const id = targets.data[k]!;
    if (valid.data[k] === 1 && (id < 0 || id >= classes))
      refuseTargets(
        op,
        `targets[${Math.floor(k / time)}][${k % time}] = ${id} (sample ${Math.floor(k / time)}, step ${k % time}) ` +
          `is outside [0, ${classes}), the logits' ${classes} classes`,
        "use class ids below the number of logits; mark positions to skip with ignoreIndex or a shorter length",
      );
  }
};

/**
 * Cross-entropy from logits over the valid positions of a padded batch: logits `[B, T, V]`
 * (float), targets int32 `[B, T]` (class ids), `lengths` per sample (valid steps first) or a bool
 * mask `[B, T]`. Stable (log-softmax, with padded rows replaced by 0 before it, so NaN or huge
 * logits on padding change nothing). With `reduction: "mean"` (default) it is the sum of the
 * per-position losses over valid positions divided by their number — not by B·T. Positions whose
 * target is `ignoreIndex` count as padding; `labelSmoothing` ε mixes ε/V of the uniform
 * distribution into the target. Targets at padded positions may be anything (e.g. -1).
 * @throws TensorException for shapes or dtypes that do not fit, bad options, or (when concrete)
 * a target outside [0, V) at a valid position, naming the sample and the step.
 * @example
 * const { xs: targets, lengths } = padSequences(targetIds);
 * const loss = sequenceCrossEntropy(logits, targets, lengths, { labelSmoothing: 0.1 });
 */
export const sequenceCrossEntropy = (
  logits: Value,
  targets: Value,
  lengths: ValidSteps,
  options: SequenceCrossEntropyOptions = {},
): Value => {
  const op = "sequenceCrossEntropy";
  checkBatchMajor(op, "logits", logits, "logits");
  checkValue(op, "targets", targets);
  checkOptions(
    op,
    "options",
    options,
    keysOf<SequenceCrossEntropyOptions>({ reduction: true, labelSmoothing: true, ignoreIndex: true }),
  );
  const reduction = check(op, "options.reduction", options.reduction, reductionRule) ?? "mean";
  const eps = check(op, "options.labelSmoothing", options.labelSmoothing, smoothingRule) ?? 0;
  const ignore = check(op, "options.ignoreIndex", options.ignoreIndex, indexRule);
  if (logits.shape.length !== 3 || !T.isFloating(logits.dtype))
    T.fail({
      _tag: logits.shape.length !== 3 ? "ShapeError" : "DTypeError",
      op,
      arg: "logits",
      shapes: [logits.shape],
      detail: `logits must be float [batch, time, classes], got ${logits.dtype} ${T.formatShape(logits.shape)}`,
      fix: "pass the unnormalised scores of every class at every step, e.g. rnn(...).outputs through a readout",
    });
  const [batch, time, classes] = logits.shape as [number, number, number];
  if (targets.dtype !== "int32")
    refuseTargets(
      op,
      `targets must be int32 class ids, got ${targets.dtype}`,
      'convert them: astype(targets, "int32")',
    );
  if (targets.shape.length !== 2 || targets.shape[0] !== batch || targets.shape[1] !== time)
    refuseTargets(
      op,
      `targets must have shape [${batch}, ${time}] (the logits' batch and time), got ${T.formatShape(targets.shape)}`,
      "pass one class id per position, e.g. padSequences(targetIds, { maxLength }).xs",
      [logits.shape, targets.shape],
    );
  const mask = validMask(op, "lengths", lengths, batch, time);
  const valid = ignore === undefined ? mask : logicalAnd(mask, notEqual(targets, ignore));
  checkTargetIds(op, targets, valid, classes);
  // Padded rows become 0 before the log-softmax, so nothing non-finite there can reach a gradient.
  const logp = logSoftmax(where(expandDims(valid, -1), logits, 0), -1);
  const ids = where(valid, targets, 0);
  const nll = neg(sum(mul(oneHot(ids, classes, logp.dtype), logp), { axis: -1 }));
  const perPosition = eps === 0 ? nll : add(mul(nll, 1 - eps), mul(neg(mean(logp, { axis: -1 })), eps));
  return reduce(where(valid, perPosition, 0), valid, reduction, 1);
};

/**
 * Mean squared error over the valid positions of a padded batch: predictions and targets
 * `[B, T, ...features]` of one float dtype, `lengths` per sample or a bool mask `[B, T]`. With
 * `reduction: "mean"` (default) it is the mean over every element of every valid position (so
 * it equals the plain MSE of the unpadded sequences concatenated); `"sum"` sums them; `"none"`
 * gives the squared errors `[B, T, ...]`, 0 on padding. Padding (NaN included) reaches neither
 * the value nor the gradient.
 * @throws TensorException for shapes or dtypes that do not match, or lengths that do not fit.
 * @example sequenceMse(rnn(cell, p, xs, { lengths }).outputs, ys, lengths)
 */
export const sequenceMse = (
  predictions: Value,
  targets: Value,
  lengths: ValidSteps,
  options: SequenceLossOptions = {},
): Value => {
  const op = "sequenceMse";
  checkBatchMajor(op, "predictions", predictions);
  checkValue(op, "targets", targets);
  checkOptions(op, "options", options, keysOf<SequenceLossOptions>({ reduction: true }));
  const reduction = check(op, "options.reduction", options.reduction, reductionRule) ?? "mean";
  if (!T.isFloating(predictions.dtype) || targets.dtype !== predictions.dtype)
    T.fail({
      _tag: "DTypeError",
      op,
      arg: T.isFloating(predictions.dtype) ? "targets" : "predictions",
      detail: `predictions and targets must share one float dtype, got ${predictions.dtype} and ${targets.dtype}`,
      fix: "convert one with astype (float64 for gradient checks, float32 for speed)",
    });
  if (!T.shapesEqual(predictions.shape, targets.shape))
    refuseTargets(
      op,
      `targets must have the predictions' shape ${T.formatShape(predictions.shape)}, ` +
        `got ${T.formatShape(targets.shape)}`,
      "pad the targets like the inputs (padSequences with the same maxLength)",
      [predictions.shape, targets.shape],
    );
  const mask = validMask(op, "lengths", lengths, predictions.shape[0]!, predictions.shape[1]!);
  // The difference is masked before squaring: NaN targets on padding give 0, and so does their gradient.
  const err = square(where(broadcastMask(mask, predictions), sub(predictions, targets), 0));
  return reduce(err, mask, reduction, T.sizeOf(predictions.shape.slice(2)));
};
