/**
 * @file The Elman (vanilla) RNN cell, PyTorch's `nn.RNNCell`: h' = act(W_ih x + b_ih + W_hh h + b_hh).
 */
import { add, relu as reluOp, tanh as tanhOp, type Value } from "@rewind/autodiff";
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

const elman = (name: string, activation: (x: Value) => Value): TensorInitCell<TorchCellParams, Value> => ({
  name,
  init: (key, sizes, options) => initTorchCell(name, key, 1, sizes, options),
  initialCarry: (batch, p) =>
    zeroState(name, batch, hiddenOf(checkTorchParams(`${name}.initialCarry`, p, 1)), p.weight_hh.dtype),
  step: (p) => {
    checkTorchParams(`${name}.step`, p, 1);
    // Without biases (PyTorch's bias=False) both are absent and affine adds nothing.
    const { bias_ih: bIh, bias_hh: bHh } = maybeBiased(p);
    return (h, x) => {
      checkStep(name, x, h, p.weight_ih, hiddenOf(p));
      const hNext = activation(add(affine(x, p.weight_ih, bIh), affine(h, p.weight_hh, bHh)));
      return [hNext, hNext];
    };
  },
  outputSize: (p) => hiddenOf(checkTorchParams(`${name}.outputSize`, p, 1)),
  inputSize: (p) => inputOf(checkTorchParams(`${name}.inputSize`, p, 1)),
});

/**
 * Elman cell with tanh (PyTorch `nn.RNN(nonlinearity="tanh")`); carry and output are h `[B, H]`.
 * @example const p = elmanTanh.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 */
export const elmanTanh: TensorInitCell<TorchCellParams, Value> = elman("elmanTanh", tanhOp);

/**
 * Elman cell with relu (PyTorch `nn.RNN(nonlinearity="relu")`).
 * @example const p = elmanRelu.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 */
export const elmanRelu: TensorInitCell<TorchCellParams, Value> = elman("elmanRelu", reluOp);
