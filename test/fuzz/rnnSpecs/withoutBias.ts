/**
 * @file Fuzz spec of `withoutBias`: each built-in PyTorch-layout cell without biases runs the
 * whole built-in cell spec (init shapes with no bias fields, the step against the float64
 * reference with no bias, every bad input refused), and `withoutBias` itself refuses every other
 * cell, `forgetBias`, and parameters that hold biases anyway.
 */
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import { rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { cellSpec } from "./cells.js";

const TORCH_CELLS: readonly R.AnyCell[] = [R.elmanTanh, R.elmanRelu, R.lstm, R.gru, R.peepholeLstm];

export const withoutBiasSpec: Spec = () => {
  let n = 0;
  for (const cell of TORCH_CELLS)
    n += cellSpec(R.withoutBias(cell as R.Cell<R.TorchCellParams, unknown>) as R.AnyCell, cell.name)();
  n += rejectPool(
    ["withoutBias"],
    [null, undefined, 5, "lstm", {}, R.mgu, R.layerNormLstm, R.minGru, R.lru, R.withoutBias(R.lstm), { ...R.lstm }],
    (c) => R.withoutBias(c as never),
  );
  const k0 = T.random.key(0);
  const sizes = { inputSize: 2, hiddenSize: 3 };
  const cell = R.withoutBias(R.lstm);
  const p = R.lstm.init(k0, sizes);
  const { bias_hh: _hh, ...onlyIh } = p;
  n += rejectEach(["lstmWithoutBias.init", "lstmWithoutBias.step", "lstmWithoutBias.initialCarry"], {
    "forgetBias (there is no bias to set)": () => cell.init(k0, sizes, { forgetBias: 1 }),
    "params with both biases to step": () => cell.step(p),
    "params with bias_ih only to step": () => cell.step(onlyIh),
    "params with both biases to initialCarry": () => cell.initialCarry(2, p),
  });
  return n;
};
