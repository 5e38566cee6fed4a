/**
 * @file The LSTM cell with PyTorch's equations, gate order (i, f, g, o) and parameter layout.
 *
 *     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
 *     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
 *     c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')
 */
import { add, mul, sigmoid, split, tanh, type Value } from "@rewind/autodiff";
import type { TensorInitCell } from "../tensorInit.js";
import {
  affine,
  checkStep,
  checkTorchParams,
  hiddenOf,
  initTorchCell,
  inputOf,
  maybeBiased,
  zeroState,
  type TorchCellParams,
} from "./common.js";

/** The LSTM carry: hidden state and cell state, both `[B, H]`. */
export interface LstmCarry {
  /** Hidden state `[B, H]`, also the step's output. */
  readonly h: Value;
  /** Cell state `[B, H]`. */
  readonly c: Value;
}

/**
 * The LSTM cell (PyTorch `nn.LSTMCell`): carry `{ h, c }`, output h.
 * @example const [carry, y] = lstm.step(p)(lstm.initialCarry(2, p), x)
 */
export const lstm: TensorInitCell<TorchCellParams, LstmCarry> = {
  name: "lstm",
  init: (key, sizes, options) => initTorchCell("lstm", key, 4, sizes, options),
  initialCarry: (batch, p) => {
    const zero = zeroState("lstm", batch, hiddenOf(checkTorchParams("lstm.initialCarry", p, 4)), p.weight_hh.dtype);
    return { h: zero, c: zero };
  },
  step: (p) => {
    checkTorchParams("lstm.step", p, 4);
    // Without biases (PyTorch's bias=False) both are absent and affine adds nothing.
    const { bias_ih: bIh, bias_hh: bHh } = maybeBiased(p);
    return (carry, x) => {
      checkStep("lstm", x, carry, p.weight_ih, hiddenOf(p), ["h", "c"]);
      const { h, c } = carry;
      const gates = add(affine(x, p.weight_ih, bIh), affine(h, p.weight_hh, bHh));
      const [i, f, g, o] = split(gates, 4, 1) as [Value, Value, Value, Value];
      const cNext = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
      const hNext = mul(sigmoid(o), tanh(cNext));
      return [{ h: hNext, c: cNext }, hNext];
    };
  },
  outputSize: (p) => hiddenOf(checkTorchParams("lstm.outputSize", p, 4)),
  inputSize: (p) => inputOf(checkTorchParams("lstm.inputSize", p, 4)),
};
