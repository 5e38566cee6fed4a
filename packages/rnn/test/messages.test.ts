/**
 * @file What `rnn` says about an `xs` that does not fit the cell (issue 13, item 10). A rank-2
 * float `xs` (one `[time, features]` sequence) used to fail inside the cell with "pass one time
 * step [batch, features]; run whole sequences with rnn(cell, params, xs)" — which the user had just
 * done. Now `rnn` names `xs`, the layout it read, the x_t that made, and the reshape that fixes it.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { gru, lstm, rnn, torchRnn } from "@rewind/rnn";
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

describe("torchRnn on PyTorch's time-major layout", () => {
  // nn.RNN(3, 4) takes [time, batch, 3]; torchRnn defaults to batchFirst: true. Before, an h_0 or
  // lengths for the real batch gave "expected [1, 6, 4] … got [1, 2, 4]; pass PyTorch's h_0 layout"
  // or "has 2 entries for a batch of 6", neither naming batchFirst.
  const layer = torchRnn({ mode: "lstm", inputSize: 3, hiddenSize: 4 });
  const p = layer.init(T.random.key(0));
  const timeMajor = T.zeros([6, 2, 3]); // time 6, batch 2
  it("an h_0 for batch 2 with xs [6, 2, 3]: names batchFirst and PyTorch's default", () => {
    const h = T.zeros([1, 2, 4]);
    const e = refusal(() => layer.apply(p, timeMajor, { initialCarry: { h, c: h } }));
    expect(e.error).toMatchObject({ _tag: "ShapeError", op: "torchRnn.apply", arg: "initialCarry" });
    expect(e.message).toMatch(/initialCarry is for a batch of 2, but xs \[6, 2, 3\] is read as /);
    expect(e.message).toMatch(/ as \[batch 6, time 2, features 3\] because batchFirst is true/);
    expect(e.message).toMatch(/PyTorch's modules default to batch_first=False/);
    expect(e.message).toMatch(/set batchFirst: false in the spec$/);
    // The fix it names works.
    const fixed = torchRnn({ mode: "lstm", inputSize: 3, hiddenSize: 4, batchFirst: false });
    expect(fixed.apply(p, timeMajor, { initialCarry: { h, c: h } }).outputs.shape).toEqual([6, 2, 4]);
  });
  it("lengths for batch 2: the same hint", () => {
    const e = refusal(() => layer.apply(p, timeMajor, { lengths: [6, 4] }));
    expect(e.error).toMatchObject({ _tag: "ShapeError", arg: "lengths" });
    expect(e.message).toMatch(/lengths is for a batch of 2, but xs \[6, 2, 3\] is read as \[batch 6, time 2/);
  });
  it("a batch-first xs with a wrong h_0 keeps the plain shape message", () => {
    const h = T.zeros([1, 3, 4]);
    const e = refusal(() => layer.apply(p, T.zeros([2, 6, 3]), { initialCarry: { h, c: h } }));
    expect(e.message).toMatch(/expected \[1, 2, 4\] \(numLayers·numDirections, batch, hiddenSize\), got \[1, 3, 4\]/);
  });
});
