/**
 * @file The type of the built-in cells: their `init` is typed to return tensors.
 *
 * `Cell<P, C>` says `init` returns `P`, a type written with `Value` (tensor or traced value)
 * because the same `P` types `step(params)` under `grad` and `jit`. The built-in cells' `init`
 * always builds tensors, and saying so lets parameters from it flow into a jitted function whose
 * result is then a `Tensor` (`Concrete<R>`) with no cast. The extra signature comes first, so a
 * call picks it; the object is still a `Cell<P, C>` wherever one is expected.
 */
import type { Concrete } from "@rewind/autodiff";
import type { Key } from "@rewind/tensor";
import type { Cell, CellSizes, InitOptions } from "./Cell.js";

/**
 * A cell whose `init` returns tensors (`Concrete<P>`): the type of every built-in cell, of
 * `defineCell`'s cells, and of `mapInput`, `mapOutput` and `stack` over such cells.
 * @example const p = lstm.init(random.key(0), { inputSize: 3, hiddenSize: 4 }); // p.weight_ih: Tensor
 */
export type TensorInitCell<P, C, X = undefined> = {
  /** Parameters for the given sizes, drawn from `key`: tensors. */
  readonly init: (key: Key, sizes: CellSizes, options?: InitOptions) => Concrete<P>;
} & Cell<P, C, X>;
