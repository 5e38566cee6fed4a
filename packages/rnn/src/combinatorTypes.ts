/**
 * @file The types of the combinators: any cell, and what `stack` returns (its context, and an
 * `init` typed by each layer's own `init`, so a stack of built-in cells initialises tensors).
 */
import type { Key } from "@rewind/tensor";
import type { Concrete } from "@rewind/autodiff";
import type { CarryOf, Cell, CellSizes, ContextOf, InitOptions, ParamsOf } from "./Cell.js";
import type { TensorInitCell } from "./tensorInit.js";

/** Any cell that reads no context, whatever its parameter and carry types (both invariant in `Cell`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCell = Cell<any, any>;

/** Any cell, including those that read a context (e.g. attention cells). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyContextCell = Cell<any, any, any>;

/** The context of a stack: the one its context-reading layers share (`undefined` when none reads one). */
export type StackContext<Cs extends readonly AnyContextCell[]> = [Exclude<ContextOf<Cs[number]>, undefined>] extends [
  never,
]
  ? undefined
  : Exclude<ContextOf<Cs[number]>, undefined>;

/**
 * The parameters `init` of one layer returns: tensors (`Concrete`) when the layer is a
 * `TensorInitCell` (a built-in or `defineCell` cell, or a combinator of them), else its `P`.
 */
export type InitParamsOf<K> =
  K extends TensorInitCell<ParamsOf<K>, CarryOf<K>, ContextOf<K>> ? Concrete<ParamsOf<K>> : ParamsOf<K>;

/**
 * What `stack` returns: a cell over the layers' parameter and carry arrays, whose `init` returns
 * each layer's `InitParamsOf` (all tensors for a stack of built-in or `defineCell` cells).
 */
export type StackCell<Cs extends readonly AnyContextCell[]> = {
  /** One parameter tree per layer, as each layer's own `init` types it. */
  readonly init: (
    key: Key,
    sizes: CellSizes,
    options?: InitOptions,
  ) => { -readonly [K in keyof Cs]: InitParamsOf<Cs[K]> };
} & Cell<
  { -readonly [K in keyof Cs]: ParamsOf<Cs[K]> },
  { -readonly [K in keyof Cs]: CarryOf<Cs[K]> },
  StackContext<Cs>
>;
