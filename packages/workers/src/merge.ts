/**
 * @file Merging the workers' values of one result leaf: a replicated leaf must be bit-identical
 * in every worker (otherwise a `pmean` is missing, and returning worker 0's value would hide it);
 * a sharded leaf is the concatenation of the workers' values along axis 0, in worker order.
 */
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import type { TreeDef } from "@rewind/autodiff";
import { treeLeafCount } from "@rewind/autodiff";
import { WorkerFailure } from "./errors.js";
import type { ShardAxis } from "./options.js";

/** Whether two byte ranges are equal, compared a 32-bit word at a time where both are aligned. */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean => {
  if (a.byteLength !== b.byteLength) return false;
  const words = a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 ? a.byteLength >> 2 : 0;
  const x32 = new Int32Array(a.buffer, a.byteOffset, words);
  const y32 = new Int32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) if (x32[i] !== y32[i]) return false;
  const x8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y8 = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = words * 4; i < a.byteLength; i++) if (x8[i] !== y8[i]) return false;
  return true;
};

const sameBits = (a: Tensor, b: Tensor): boolean =>
  a.dtype === b.dtype &&
  a.shape.length === b.shape.length &&
  a.shape.every((d, i) => d === b.shape[i]) &&
  sameBytes(a.data, b.data);

/**
 * The error for a result leaf marked replicated that worker `w` computed differently from worker 0.
 * @example throw replicatedDiffers(1, 0)
 */
export const replicatedDiffers = (w: number, leaf: number): WorkerFailure =>
  new WorkerFailure(
    "pmap",
    w,
    `computed another value than worker 0 for result leaf ${leaf}, which outAxes marks replicated (null)`,
    "average it over the workers inside the function (pmean), or mark that output 0 to get every worker's rows",
  );

const isAxisList = (a: ShardAxis | readonly ShardAxis[]): a is readonly ShardAxis[] => Array.isArray(a);

/**
 * The axis of each leaf of a result of structure `def`: `outAxes` itself, or, when it is an array,
 * the entry of the result's element the leaf belongs to.
 * @example leafAxes({ kind: "array", children: [leaf, leaf] }, [null, 0]) // [null, 0]
 */
export const leafAxes = (def: TreeDef, outAxes: ShardAxis | readonly ShardAxis[]): ShardAxis[] => {
  if (!isAxisList(outAxes)) return new Array<ShardAxis>(treeLeafCount(def)).fill(outAxes);
  if (def.kind !== "array" || def.children.length !== outAxes.length)
    return T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "options.outAxes",
      detail:
        `has ${outAxes.length} entries but the result is ` +
        (def.kind === "array" ? `an array of ${def.children.length}` : "not an array"),
      fix: "give one entry per element of the returned array, or a single 0 or null for the whole result",
    });
  return def.children.flatMap((c, k) => new Array<ShardAxis>(treeLeafCount(c)).fill(outAxes[k]!));
};

/**
 * One leaf of the merged result from the workers' values `values` (in worker order).
 * @example mergeLeaf([a, b], 0, 0) // concat([a, b], 0)
 */
export const mergeLeaf = (values: readonly Tensor[], leaf: number, axis: ShardAxis): Tensor => {
  if (axis === null) {
    const w = values.findIndex((v) => !sameBits(v, values[0]!));
    if (w > 0) throw replicatedDiffers(w, leaf);
    return values[0]!;
  }
  if (values[0]!.shape.length === 0)
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "options.outAxes",
      detail: `result leaf ${leaf} is a scalar, which cannot be joined along axis 0`,
      fix: "return it with a leading axis (expandDims(x, 0)) or mark it null",
    });
  return T.concat(values, 0);
};
