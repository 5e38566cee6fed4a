/**
 * @file The contract between `jit` and a device back end (`@rewind/webgpu`): types only, plus the
 * registry of named back ends that `jit(f, { backend: "webgpu" })` reads. A device call returns
 * a promise of device arrays, whose values come back only through an asynchronous `read()`.
 */
import type { DType, Shape, Tensor } from "@rewind/tensor";
import type { Concrete } from "./types.js";

/** A value held by a device (a GPU buffer): shape and dtype here, the elements only through `read`. */
export interface DeviceArray {
  /** The dimensions, outermost first. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
  /** True once `dispose` was called (or the device was lost); `read` then rejects. */
  readonly disposed: boolean;
  /**
   * Copies the elements back into a new tensor (WebGPU maps buffers asynchronously).
   * @example const t = await out.read();
   */
  read(): Promise<Tensor>;
  /**
   * Frees the device memory now, instead of when the garbage collector gets to it. Idempotent.
   * @example out.dispose(); out.disposed // true
   */
  dispose(): void;
}

/**
 * `T` with every tensor in it made a `DeviceArray`, through arrays, tuples and objects: what a
 * device-jitted function returns.
 * @example type R = OnDevice<{ loss: Tensor; grads: Tensor[] }> // { loss: DeviceArray; grads: DeviceArray[] }
 */
export type OnDevice<T> = T extends Tensor
  ? DeviceArray
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T]: OnDevice<T[K]> }
      : T;

/**
 * `T` with every tensor in it allowed to be a `DeviceArray` too: what a device-jitted function
 * accepts (device arrays are used in place, tensors are uploaded).
 * @example type A = DeviceInputs<[Tensor, { w: Tensor }]> // [Tensor | DeviceArray, { w: Tensor | DeviceArray }]
 */
export type DeviceInputs<T> = T extends Tensor
  ? Tensor | DeviceArray
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T]: DeviceInputs<T[K]> }
      : T;

/** A function jitted for a device: its results stay on the device until they are read. */
export interface DeviceJitted<Args extends unknown[], R> {
  /** A call uploads the tensors among the arguments, runs on the device, and resolves to device arrays. */
  (...args: DeviceInputs<Concrete<Args>>): Promise<OnDevice<Concrete<R>>>;
  /** Number of distinct signatures compiled so far. */
  readonly cacheSize: () => number;
}

/** A device back end for `jit` (`await webgpu()` from `@rewind/webgpu` makes one). */
export interface JitBackend {
  /** The back end's name, as `jit(f, { backend: name })` finds it once registered. */
  readonly name: string;
  /**
   * Compiles `f` for the device (`jit` delegates here when given this back end).
   * @example const step = gpu.jit(trainStep); const out = await step(params, batch);
   */
  jit<Args extends unknown[], R>(f: (...args: Args) => R, options?: object): DeviceJitted<Args, R>;
}
