/**
 * @file The peephole LSTM (Gers & Schmidhuber 2000, "Recurrent nets that time and count"): the
 * input and forget gates also look at the previous cell state, and the output gate at the new
 * one, each through a diagonal (elementwise) weight. Gate order and the stacked weights follow
 * PyTorch's LSTM (i, f, g, o), so the non-peephole part loads from `nn.LSTMCell`:
 *
 *     i  = σ(W_ii x + b_ii + W_hi h + b_hi + w_ci ⊙ c)
 *     f  = σ(W_if x + b_if + W_hf h + b_hf + w_cf ⊙ c)
 *     g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
 *     c' = f ⊙ c + i ⊙ g
 *     o  = σ(W_io x + b_io + W_ho h + b_ho + w_co ⊙ c')
 *     h' = o ⊙ tanh(c')
 *
 * With `weight_ci = weight_cf = weight_co = 0` it is exactly the PyTorch LSTM.
 */
import * as T from "@rewind/tensor";
import { add, mul, sigmoid, split, tanh, type Value } from "@rewind/autodiff";
import type { TensorInitCell } from "../tensorInit.js";
import { uniformInit } from "../init.js";
import {
  affine,
  checkFields,
  checkStep,
  checkTorchParams,
  hiddenOf,
  initTorchCell,
  inputOf,
  maybeBiased,
  zeroState,
  type TorchCellParams,
} from "./common.js";
import type { LstmCarry } from "./lstm.js";

/** PyTorch's LSTM parameters plus the three diagonal peephole weights, each `[H]`. */
export interface PeepholeLstmParams extends TorchCellParams {
  /** `[H]`: how the input gate sees the previous cell state (`w_ci ⊙ c`). */
  readonly weight_ci: Value;
  /** `[H]`: how the forget gate sees the previous cell state (`w_cf ⊙ c`). */
  readonly weight_cf: Value;
  /** `[H]`: how the output gate sees the new cell state (`w_co ⊙ c'`). */
  readonly weight_co: Value;
}

/** The LSTM checks plus the three peephole vectors, each `[H]`. */
const checkPeephole = (op: string, p: PeepholeLstmParams): PeepholeLstmParams => {
  checkTorchParams(op, p, 4);
  checkFields(op, p, ["weight_ci", "weight_cf", "weight_co"]);
  const h = hiddenOf(p);
  if (
    ![p.weight_ci, p.weight_cf, p.weight_co].every((w) => T.shapesEqual(w.shape, [h]) && w.dtype === p.weight_hh.dtype)
  ) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: [p.weight_ci.shape, p.weight_cf.shape, p.weight_co.shape],
      detail: `the peephole weights must be ${p.weight_hh.dtype} [${h}] (one per hidden unit)`,
      fix: "pass parameters made by peepholeLstm.init",
    });
  }
  return p;
};

/**
 * The peephole LSTM cell: carry `{ h, c }`, output h `[B, H]`. Peephole weights are drawn like
 * every other LSTM parameter (uniform ±1/√H), whatever the weight scheme, because they are
 * vectors with no spectrum to shape.
 * @example
 * const p = peepholeLstm.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 * const { outputs } = rnn(peepholeLstm, p, xs) // xs [B, T, 3] → outputs [B, T, 8]
 */
export const peepholeLstm: TensorInitCell<PeepholeLstmParams, LstmCarry> = {
  name: "peepholeLstm",
  init: (key, sizes, options = {}) => {
    const [kTorch, kci, kcf, kco] = T.random.split(key, 4) as [T.Key, T.Key, T.Key, T.Key];
    const base = initTorchCell("peepholeLstm", kTorch, 4, sizes, options);
    const h = sizes.hiddenSize;
    const dtype = options.dtype ?? "float32";
    return {
      ...base,
      weight_ci: uniformInit(kci, [h], h, dtype),
      weight_cf: uniformInit(kcf, [h], h, dtype),
      weight_co: uniformInit(kco, [h], h, dtype),
    };
  },
  initialCarry: (batch, p) => {
    const zero = zeroState(
      "peepholeLstm",
      batch,
      hiddenOf(checkPeephole("peepholeLstm.initialCarry", p)),
      p.weight_hh.dtype,
    );
    return { h: zero, c: zero };
  },
  step: (p) => {
    checkPeephole("peepholeLstm.step", p);
    // Without biases (PyTorch's bias=False) both are absent and affine adds nothing.
    const { bias_ih: bIh, bias_hh: bHh } = maybeBiased(p);
    return (carry, x) => {
      checkStep("peepholeLstm", x, carry, p.weight_ih, hiddenOf(p), ["h", "c"]);
      const { h, c } = carry;
      const gates = add(affine(x, p.weight_ih, bIh), affine(h, p.weight_hh, bHh));
      const [gi, gf, gg, go] = split(gates, 4, 1) as [Value, Value, Value, Value];
      // i and f peek at the old cell state; o peeks at the new one (it is computed after c').
      const i = sigmoid(add(gi, mul(p.weight_ci, c)));
      const f = sigmoid(add(gf, mul(p.weight_cf, c)));
      const cNext = add(mul(f, c), mul(i, tanh(gg)));
      const o = sigmoid(add(go, mul(p.weight_co, cNext)));
      const hNext = mul(o, tanh(cNext));
      return [{ h: hNext, c: cNext }, hNext];
    };
  },
  outputSize: (p) => hiddenOf(checkPeephole("peepholeLstm.outputSize", p)),
  inputSize: (p) => inputOf(checkPeephole("peepholeLstm.inputSize", p)),
};
