/**
 * @file What `rnn` says when `xs` does not fit the cell. `rnn` slices `xs` into one x_t per step
 * and the cell's step checks x_t; its message ("pass one time step [batch, features]; run whole
 * sequences with rnn(cell, params, xs)") is right for a direct `step` call and wrong for a user who
 * just called `rnn` with a single `[time, features]` sequence. These helpers restate the refusal
 * in terms of `xs`: the layout `rnn` read, the x_t it made, and how to reshape.
 */
import * as T from "@rewind/tensor";
import type { Value } from "@rewind/autodiff";

const layout = (timeMajor: boolean): string =>
  timeMajor ? "[time, batch, ...features]" : "[batch, time, ...features]";

/**
 * Throws unless `xs` has a batch and a time axis (rank ≥ 2).
 * @example checkSequenceRank(zeros([2, 5, 3]), false) // passes
 */
export const checkSequenceRank = (xs: Value, timeMajor: boolean): void => {
  if (xs.shape.length >= 2) return;
  T.fail({
    _tag: "ShapeError",
    op: "rnn",
    arg: "xs",
    shapes: [xs.shape],
    detail: `xs must have a batch and a time axis, ${layout(timeMajor)}, got a rank-${xs.shape.length} tensor`,
    fix:
      xs.shape.length === 1
        ? "for one sequence of token ids add a batch axis, expandDims(xs, 0) → [1, time]; " +
          "for one sequence of float " +
          "values add a features axis too, reshape(xs, [1, time, 1])"
        : "pass a batch of sequences, e.g. reshape(xs, [1, 1, 1]) for one step of one sequence",
  });
};

/**
 * Wraps a cell's step so that its refusal of x_t's shape (a `ShapeError` from `<cell>.step` about
 * argument `x`) becomes an `rnn` error about `xs`; every other error passes through unchanged.
 * @example const step = explainStepInput("lstm", xs, false, lstm.step(params))
 */
export const explainStepInput =
  <C, R>(
    cellName: string,
    xs: Value,
    timeMajor: boolean,
    step: (carry: C, x: Value, noise?: unknown) => R,
  ): ((carry: C, x: Value, noise?: unknown) => R) =>
  (carry, x, noise) => {
    try {
      return step(carry, x, noise);
    } catch (e) {
      // Only a shape refusal is about the layout; a dtype refusal already says what to convert.
      if (
        !(e instanceof T.TensorException) ||
        e.error._tag !== "ShapeError" ||
        e.error.op !== `${cellName}.step` ||
        e.error.arg !== "x"
      )
        throw e;
      const xt = timeMajor ? xs.shape.slice(1) : [xs.shape[0]!, ...xs.shape.slice(2)];
      const read = timeMajor
        ? `[time ${xs.shape[0]}, batch ${xs.shape[1]}]`
        : `[batch ${xs.shape[0]}, time ${xs.shape[1]}]`;
      const axis = timeMajor ? "1) → [time, 1, features]" : "0) → [1, time, features]";
      const single = `expandDims(xs, ${axis}`;
      return T.fail({
        _tag: "ShapeError",
        op: "rnn",
        arg: "xs",
        shapes: [xs.shape],
        detail:
          `xs of shape ${T.formatShape(xs.shape)} is read as ${read}${xs.shape.length > 2 ? " and features" : ""}, ` +
          `so each step gives the cell x_t of shape ${T.formatShape(xt)}, ` +
          `which ${cellName}.step refuses: ${e.error.detail}`,
        fix:
          xs.shape.length === 2
            ? `xs must be ${layout(timeMajor)}, rank 3 for a cell over feature vectors (rank 2 means int32 token ` +
              `ids, for a cell that embeds them); for a single [time, features] sequence add a batch axis: ${single}`
            : `give xs the features the cell reads: ${layout(timeMajor)} with the cell's input size on the last axis`,
      });
    }
  };
