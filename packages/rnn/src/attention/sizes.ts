/**
 * @file The sizes an attention cell is initialised with: the wrapped cell's, plus the memory's
 * feature size and (additive attention) the score layer's width, both checked here and removed
 * before the wrapped cell sees the sizes (the built-in cells refuse keys they do not read).
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import type { Concrete, Value } from "@rewind/autodiff";
import type { Cell, CellSizes, InitOptions } from "../Cell.js";
import type { AttentionContext } from "./context.js";
import { checkSizesObject } from "../util.js";

/** Sizes of an attention cell's `init`. */
export interface AttentionSizes extends CellSizes {
  /** Features per memory row, D (default `hiddenSize`). */
  readonly memorySize?: number;
  /** Width of the additive score layer, A (default `hiddenSize`); additive attention only. */
  readonly attentionSize?: number;
}

/**
 * A cell made by an attention combinator: it reads an `AttentionContext`, and its `init` takes
 * the memory's size (and the additive score width) next to the wrapped cell's sizes.
 * @example const dec: AttentionCell<AdditiveAttentionParams<TorchCellParams>, Value> = additiveAttention(gru)
 */
export interface AttentionCell<P, C, Y = Value> extends Cell<P, C, AttentionContext, Y> {
  /** Parameters for these sizes: the wrapped cell's, plus `memorySize` (and `attentionSize`). */
  readonly init: (key: Key, sizes: AttentionSizes, options?: InitOptions) => P;
}

/**
 * An attention cell over a `TensorInitCell` (a built-in or `defineCell` cell): its `init` returns
 * tensors (`Concrete<P>`), so jitted functions of its parameters return tensors (see
 * tensorInit.ts). The extra signature comes first, so a call picks it.
 * @example const p = additiveAttention(gru).init(random.key(0), { inputSize: 8, hiddenSize: 16 }) // tensors
 */
export type TensorInitAttentionCell<P, C, Y = Value> = {
  /** Parameters for these sizes, as tensors. */
  readonly init: (key: Key, sizes: AttentionSizes, options?: InitOptions) => Concrete<P>;
} & AttentionCell<P, C, Y>;

/** The checked attention sizes and the sizes left for the wrapped cell. */
export interface SplitSizes {
  readonly memorySize: number;
  readonly attentionSize: number;
  readonly rest: CellSizes & Record<string, unknown>;
}

const positive = (op: string, arg: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: `sizes.${arg}`,
      detail: `${arg} must be an integer ≥ 1, got ${String(n)}`,
      fix: `pass e.g. { ${arg}: 32 }, or leave it out to use hiddenSize`,
    });
  }
  return n as number;
};

/**
 * Reads `memorySize` and `attentionSize` (defaulting to `hiddenSize`) out of `sizes`.
 * @example splitSizes("additiveAttention(gru).init", { inputSize: 4, hiddenSize: 8, memorySize: 6 })
 */
export const splitSizes = (op: string, sizes: AttentionSizes): SplitSizes => {
  checkSizesObject(op, sizes, "{ inputSize: 8, hiddenSize: 32, memorySize: 32 }");
  const { memorySize, attentionSize, ...rest } = sizes;
  const hidden = sizes.hiddenSize;
  return {
    memorySize: positive(op, "memorySize", memorySize ?? hidden),
    attentionSize: positive(op, "attentionSize", attentionSize ?? hidden),
    rest,
  };
};
