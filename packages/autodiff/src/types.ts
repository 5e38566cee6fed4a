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
