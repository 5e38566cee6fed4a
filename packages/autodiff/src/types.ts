/**
 * @file The static types that let a transform's result keep the function's own types: `Concrete`
 * turns every traced value of a pytree type into a tensor, which is what a transform returns when
 * it is called on tensors (a call on tracers, inside another transform, returns traced values).
 */
import type { Tensor } from "@rewind/tensor";
import type { Tracer } from "./core.js";

/**
 * `T` with every `Value` or `Tracer` in it made a `Tensor`, through arrays, tuples and objects:
 * the type of a transform's result when it is called on tensors.
 * @example type P = Concrete<{ w: Value; b: [Value, number] }> // { w: Tensor; b: [Tensor, number] }
 */
export type Concrete<T> = T extends Tracer
  ? Tensor
  : T extends Tensor
    ? T
    : T extends (...args: never[]) => unknown
      ? T
      : T extends object
        ? { [K in keyof T]: Concrete<T[K]> }
        : T;

/**
 * A function made by a transform that keeps `f`'s signature (`vmap`, `remat`): called on tensors
 * it returns tensors (`Concrete<R>`), called on traced values (inside another transform) it
 * returns traced values. The second signature also serves arguments whose types say `Value`.
 * @example const g: Transformed<[Value], Value> = vmap((x: Value) => mul(x, 2)); g(tensor([1])) // a Tensor
 */
export interface Transformed<Args extends unknown[], R> {
  /** A call on tensors returns tensors. */
  (...args: Concrete<Args>): Concrete<R>;
  /** A call on traced values (inside another transform) returns traced values. */
  (...args: Args): R;
}
