/**
 * @file What `rnn` says about an `xs` that does not fit the cell (issue 13, item 10). A rank-2
 * float `xs` (one `[time, features]` sequence) used to fail inside the cell with "pass one time
 * step [batch, features]; run whole sequences with rnn(cell, params, xs)" — which the user had just
 * done. Now `rnn` names `xs`, the layout it read, the x_t that made, and the reshape that fixes it.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { gru, lstm, rnn } from "@rewind/rnn";
import { refusal } from "./extra-helpers.js";

const params = lstm.init(T.random.key(0), { inputSize: 3, hiddenSize: 4 });

describe("rnn on an xs the cell cannot read", () => {
  it("a single [time, features] sequence: names xs, the layout read, x_t, and expandDims", () => {
    const e = refusal(() => rnn(lstm, params, T.zeros([5, 3])));
    expect(e.error).toMatchObject({ _tag: "ShapeError", op: "rnn", arg: "xs", shapes: [[5, 3]] });
    expect(e.message).toMatch(
      /^rnn: xs of shape \[5, 3\] is read as \[batch 5, time 3\], so each step gives the cell x_t of shape \[5\], which lstm\.step refuses: x_t must be \[batch, 3\]/,
    );
    expect(e.message).toMatch(/xs must be \[batch, time, \.\.\.features\], rank 3 for a cell over feature vectors/);
    expect(e.message).toMatch(/add a batch axis: expandDims\(xs, 0\) → \[1, time, features\]$/);
    expect(e.message).not.toMatch(/run whole sequences with rnn/);
    // The fix it names works.
    expect(rnn(lstm, params, T.expandDims(T.zeros([5, 3]), 0)).outputs.shape).toEqual([1, 5, 4]);
  });
  it("time-major: the batch axis goes second", () => {
    const e = refusal(() =>
      rnn(gru, gru.init(T.random.key(1), { inputSize: 3, hiddenSize: 2 }), T.zeros([5, 3]), { timeMajor: true }),
    );
    expect(e.message).toMatch(
      /^rnn: xs of shape \[5, 3\] is read as \[time 5, batch 3\], so each step gives the cell x_t of shape \[3\], which gru\.step refuses/,
    );
    expect(e.message).toMatch(/expandDims\(xs, 1\) → \[time, 1, features\]$/);
  });
  it("rank 3 with the wrong feature size: says which size the cell reads", () => {
    const e = refusal(() => rnn(lstm, params, T.zeros([2, 5, 4])));
    expect(e.message).toMatch(
      /^rnn: xs of shape \[2, 5, 4\] is read as \[batch 2, time 5\] and features, so each step gives the cell x_t of shape \[2, 4\], which lstm\.step refuses: x_t must be \[batch, 3\]/,
    );
    expect(e.message).toMatch(/with the cell's input size on the last axis$/);
  });
  it("the same message under grad and jit", () => {
    const loss = (p: typeof params) => A.sum(rnn(lstm, p, T.zeros([5, 3])).outputs);
    expect(refusal(() => A.grad(loss)(params)).message).toMatch(
      /^rnn: xs of shape \[5, 3\] is read as \[batch 5, time 3\]/,
    );
    expect(refusal(() => A.jit(loss)(params)).message).toMatch(
      /^rnn: xs of shape \[5, 3\] is read as \[batch 5, time 3\]/,
    );
  });
  it("rank 1: names the rank and both reshapes (token ids, float values)", () => {
    const e = refusal(() => rnn(lstm, params, T.zeros([5])));
    expect(e.message).toMatch(
      /^rnn: xs must have a batch and a time axis, \[batch, time, \.\.\.features\], got a rank-1 tensor/,
    );
    expect(e.message).toMatch(
      /expandDims\(xs, 0\) → \[1, time\]; for one sequence of float values add a features axis too, reshape\(xs, \[1, time, 1\]\)$/,
    );
    expect(e.message).not.toMatch(/or set timeMajor/);
  });
  it("a dtype refusal passes through unchanged (its fix is a conversion, not a reshape)", () => {
    const e = refusal(() => rnn(lstm, params, T.zeros([2, 5, 3], "float64")));
    expect(e.message).toMatch(/^lstm\.step: x_t is float64 but the parameters are float32/);
  });
  it("a direct step call keeps the step's own message", () => {
    const e = refusal(() => lstm.step(params)(lstm.initialCarry(5, params), T.zeros([5])));
    expect(e.message).toMatch(
      /^lstm\.step: x_t must be \[batch, 3\].*run whole sequences with rnn\(cell, params, xs\)/,
    );
  });
});

describe("a carry of the wrong structure is described as the user wrote it", () => {
  // Before: inside rnn's scan the carry is a tracer, and the message listed its internal fields:
  // "the carry must be { h, c } of tensors, got keys trace, variable, _tag".
  it("a GRU's single-tensor carry given to an LSTM: names the tensor, not a tracer's fields", () => {
    const e = refusal(() => rnn(lstm, params, T.zeros([2, 5, 3]), { initialCarry: T.zeros([2, 4]) as never }));
    expect(e.message).toMatch(
      /^lstm\.step: the carry must be \{ h, c \} of tensors, got a tensor float32 \[2, 4\] \(argument `carry`\)/,
    );
    expect(e.message).not.toMatch(/trace|variable|_tag/);
  });
  it("an object with other keys: lists its keys (sorted, as pytrees order them)", () => {
    const carry = { h: T.zeros([2, 4]), cc: T.zeros([2, 4]) };
    const e = refusal(() => rnn(lstm, params, T.zeros([2, 5, 3]), { initialCarry: carry as never }));
    expect(e.message).toMatch(/the carry must be \{ h, c \} of tensors, got keys cc, h/);
  });
});
