/**
 * @file The GRU cell with PyTorch's equations, gate order (r, z, n) and parameter layout. The reset
 * gate multiplies `W_hn h + b_hn` (PyTorch's form, not the paper's r ⊙ h inside the matmul):
 *
 *     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *     h' = (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
 *
 * Without biases (PyTorch's `bias=False`, `withoutBias(gru)`) every b term vanishes, b_hn too:
 * n = tanh(W_in x + r ⊙ (W_hn h)).
 */
import { add, mul, sigmoid, split, sub, tanh, type Value } from "@rewind/autodiff";
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

/**
 * The GRU cell (PyTorch `nn.GRUCell`): carry and output are h `[B, H]`.
 * @example const [h, y] = gru.step(p)(gru.initialCarry(2, p), x)
 */
export const gru: TensorInitCell<TorchCellParams, Value> = {
  name: "gru",
  init: (key, sizes, options) => initTorchCell("gru", key, 3, sizes, options),
  initialCarry: (batch, p) =>
    zeroState("gru", batch, hiddenOf(checkTorchParams("gru.initialCarry", p, 3)), p.weight_hh.dtype),
  step: (p) => {
    checkTorchParams("gru.step", p, 3);
    // Without biases (PyTorch's bias=False) both are absent and affine adds nothing.
    const { bias_ih: bIh, bias_hh: bHh } = maybeBiased(p);
    return (h, x) => {
      checkStep("gru", x, h, p.weight_ih, hiddenOf(p));
      const [xr, xz, xn] = split(affine(x, p.weight_ih, bIh), 3, 1) as [Value, Value, Value];
      const [hr, hz, hn] = split(affine(h, p.weight_hh, bHh), 3, 1) as [Value, Value, Value];
      const r = sigmoid(add(xr, hr));
      const z = sigmoid(add(xz, hz));
      const n = tanh(add(xn, mul(r, hn)));
      const hNext = add(n, mul(z, sub(h, n)));
      return [hNext, hNext];
    };
  },
  outputSize: (p) => hiddenOf(checkTorchParams("gru.outputSize", p, 3)),
  inputSize: (p) => inputOf(checkTorchParams("gru.inputSize", p, 3)),
};
