/**
 * @file Pieces the built-in cells share: PyTorch's parameter record, the affine map, size checks.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { add, matmul, transpose, type Value } from "@rewind/autodiff";
import type { CellSizes, InitOptions } from "../Cell.js";
import { gateWeight, uniformInit } from "../init.js";

/** PyTorch's per-layer RNN parameters: gate-stacked weights `[G·H, in]`, `[G·H, H]` and biases. */
export interface TorchCellParams {
  readonly weight_ih: Value;
  readonly weight_hh: Value;
  readonly bias_ih: Value;
  readonly bias_hh: Value;
}

/** Throws a clear error unless sizes are positive integers. */
export const checkSizes = (cell: string, sizes: CellSizes): void => {
  for (const name of ["inputSize", "hiddenSize"] as const) {
    const v = (sizes as unknown as Record<string, unknown>)[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      T.fail({
        _tag: "ValueError",
        op: `${cell}.init`,
        arg: `sizes.${name}`,
        detail: `${name} must be a positive integer, got ${JSON.stringify(v)}`,
        fix: "pass e.g. { inputSize: 8, hiddenSize: 32 }",
      });
    }
  }
};

/**
 * PyTorch-layout parameters for a cell with `gates` stacked gates (1 Elman, 3 GRU, 4 LSTM).
 * @example initTorchCell(random.key(0), 4, { inputSize: 3, hiddenSize: 5 }).weight_ih.shape // [20, 3]
 */
export const initTorchCell = (name: string, key: Key, gates: number, sizes: CellSizes, options: InitOptions = {}): TorchCellParams => {
  checkSizes(name, sizes);
  const { inputSize, hiddenSize } = sizes;
  const dtype = options.dtype ?? "float32";
  const [k1, k2, k3, k4] = T.random.split(key, 4) as [Key, Key, Key, Key];
  return {
    weight_ih: gateWeight(k1, gates, hiddenSize, inputSize, options),
    weight_hh: gateWeight(k2, gates, hiddenSize, hiddenSize, options),
    bias_ih: uniformInit(k3, [gates * hiddenSize], hiddenSize, dtype),
    bias_hh: uniformInit(k4, [gates * hiddenSize], hiddenSize, dtype),
  };
};

/**
 * x Wᵀ + b for a batch of rows x `[B, in]`, weight `[out, in]`, bias `[out]`.
 * @example affine(x, params.weight_ih, params.bias_ih)
 */
export const affine = (x: Value, w: Value, b: Value): Value => add(matmul(x, transpose(w)), b);

/** Hidden size of a PyTorch-layout cell (weight_hh is `[gates·H, H]`). */
export const hiddenOf = (p: TorchCellParams): number => p.weight_hh.shape[1]!;

/** Input features of a PyTorch-layout cell (weight_ih is `[gates·H, inputSize]`). */
export const inputOf = (p: TorchCellParams): number => p.weight_ih.shape[1]!;

/** Checks that x_t is `[batch, inputSize]` for the cell's weights, naming the cell on failure. */
export const checkInput = (cell: string, x: Value, p: TorchCellParams): void => {
  const inputSize = p.weight_ih.shape[1]!;
  if (x.shape.length !== 2 || x.shape[1] !== inputSize) {
    T.fail({
      _tag: "ShapeError",
      op: `${cell}.step`,
      arg: "x",
      shapes: [x.shape, p.weight_ih.shape],
      detail: `x_t must be [batch, ${inputSize}] for weight_ih of shape [${p.weight_ih.shape.join(", ")}]`,
      fix: "pass one time step [batch, features]; run whole sequences with rnn(cell, params, xs)",
    });
  }
};

/** Zeros `[batch, hidden]` of the params' dtype. */
export const zeroState = (cell: string, batch: number, hidden: number, dtype: T.DType): T.Tensor => {
  if (!Number.isSafeInteger(batch) || batch < 0) {
    T.fail({ _tag: "ValueError", op: `${cell}.initialCarry`, arg: "batch", detail: `batch must be a non-negative integer, got ${batch}`, fix: "pass the batch size" });
  }
  return T.zeros([batch, hidden], dtype);
};
