/**
 * @file Device arrays in pytrees. Rewind's `treeFlatten` sees a device array as static data (it is
 * no tensor), so these helpers flatten as usual and then turn the static device-array nodes back
 * into leaves, in flatten order: the same leaf order a tree of tensors has.
 */
import { treeFlatten, treeUnflatten, type DeviceArray, type TreeDef, type Value } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import { GpuArray } from "./array.js";

/**
 * `T` with every device array in it made a `Tensor`, through arrays, tuples and objects: what
 * `readTree` resolves to.
 * @example type R = FromDevice<{ loss: DeviceArray }> // { loss: Tensor }
 */
export type FromDevice<T> = T extends DeviceArray
  ? Tensor
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T]: FromDevice<T[K]> }
      : T;

/**
 * True for a device array of this package.
 * @example isDeviceArray(await step(x)) // true
 */
export const isDeviceArray = (x: unknown): x is GpuArray => x instanceof GpuArray;

/** A leaf of a device tree: a tensor (or tracer), or a device array. */
export type DeviceLeaf = Value | GpuArray;

/**
 * Flattens `tree` with device arrays as leaves.
 * @example const [leaves, def] = flattenDevice([x, out]); // [tensor, GpuArray]
 */
export const flattenDevice = (tree: unknown): [DeviceLeaf[], TreeDef] => {
  const [values, def0] = treeFlatten(tree);
  const leaves: DeviceLeaf[] = [];
  let next = 0;
  const walk = (d: TreeDef): TreeDef => {
    if (d.kind === "leaf") {
      leaves.push(values[next++]!);
      return d;
    }
    if (d.kind === "static") {
      if (!isDeviceArray(d.value)) return d;
      leaves.push(d.value);
      return { kind: "leaf" };
    }
    return { ...d, children: d.children.map(walk) };
  };
  const def = walk(def0);
  return [leaves, def];
};

/**
 * Reads every device array in `tree` back (all at once), keeping the tree's structure.
 * @example const { loss, grads } = await readTree(await step(params, batch));
 */
export const readTree = async <T>(tree: T): Promise<FromDevice<T>> => {
  const [leaves, def] = flattenDevice(tree);
  const read = await Promise.all(leaves.map((l) => (isDeviceArray(l) ? l.read() : Promise.resolve(l))));
  return treeUnflatten(def, read);
};

/**
 * Disposes every device array in `tree` (their buffers are freed at once).
 * @example disposeTree(out);
 */
export const disposeTree = (tree: unknown): void => {
  for (const l of flattenDevice(tree)[0]) if (isDeviceArray(l)) l.dispose();
};
