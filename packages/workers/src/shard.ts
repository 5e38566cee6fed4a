/**
 * @file One worker's part of a `pmap` call, the same in Node's worker threads and the browser's
 * Web Workers: read its arguments from shared memory, run the function with the collectives bound
 * to this call, and pack its result — the kept elements written into shared buffers that stay
 * with the workers, the rest into one `ArrayBuffer` for the main thread (a replicated leaf only
 * by worker 0; every worker reports its checksum).
 */
import * as T from "@rewind/tensor";
import type { DType } from "@rewind/tensor";
import { treeFlatten, treeLeafCount, treeUnflatten, type TreeDef } from "@rewind/autodiff";
import { withCollectives } from "./collective.js";
import { readArguments, type PackedArguments } from "./layout.js";
import { leafAxes } from "./merge.js";
import type { ShardAxis } from "./options.js";
import { checksum } from "./placed.js";
import { packResult } from "./results.js";
import { BYTES, viewOf } from "./views.js";

/** One worker's task for one call: the only thing structured-cloned per call (buffers are shared). */
export interface ShardTask {
  /** The module's URL (Node: `file:`), imported once per worker and cached; absent in the browser. */
  readonly module?: string;
  /** The name of the function (a module export, or a name the browser worker serves). */
  readonly export: string;
  /** This worker's index and the number of workers. */
  readonly index: number;
  readonly size: number;
  /** The arguments' layout and their shared memory. */
  readonly plan: PackedArguments;
  readonly args: SharedArrayBuffer;
  /** The barrier's control words (an `Int32Array` over this buffer). */
  readonly control: SharedArrayBuffer;
  /** The collectives' slots and their size in bytes. */
  readonly slots: SharedArrayBuffer;
  readonly slotBytes: number;
  /** How long a worker waits for the others at a collective. */
  readonly timeoutMs: number;
  /** The result's axes, and which of its elements stay with the workers. */
  readonly outAxes: ShardAxis | readonly ShardAxis[];
  readonly keep: readonly number[];
  /** Buffers this worker may write kept leaves into (recycled from donated values). */
  readonly spare: readonly SharedArrayBuffer[];
}

/** A kept leaf as one worker reports it. */
export interface KeptLeaf {
  /** The leaf's index in the flattened result. */
  readonly leaf: number;
  readonly dtype: DType;
  /** This worker's shape of it (its rows, for a sharded leaf). */
  readonly shape: readonly number[];
  /** Where it was written (absent for a replicated leaf outside worker 0, which writes it). */
  readonly buffer?: SharedArrayBuffer;
  /** The checksum of this worker's copy of a replicated leaf. */
  readonly checksum?: readonly [number, number];
  /** Whether `buffer` is recycled memory (a donated value's) rather than new. */
  readonly reused?: boolean;
}

/** A replicated result leaf as one worker reports it: worker 0 ships its data, every worker its checksum. */
export interface ReplicatedLeaf {
  /** The leaf's index in the flattened result. */
  readonly leaf: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly checksum: readonly [number, number];
}

/** What a worker sends back: the packed non-kept leaves, the kept ones, and the replicated ones' checksums. */
export interface ShardResult {
  readonly packed: ArrayBuffer;
  readonly kept: readonly KeptLeaf[];
  /** Absent from a single worker, whose replicated leaves have no other copy to agree with. */
  readonly replicated?: readonly ReplicatedLeaf[];
}

/**
 * For each leaf of a result of structure `def`: whether it belongs to a kept element. Kept
 * elements need an array result (`keep` names its elements).
 * @example keptLeaves({ kind: "array", children: [leaf, leaf] }, [1]) // [false, true]
 */
export const keptLeaves = (def: TreeDef, keep: readonly number[]): boolean[] => {
  if (keep.length === 0) return new Array<boolean>(treeLeafCount(def)).fill(false);
  const children = def.kind === "array" ? def.children : [];
  const missing = keep.find((k) => k >= children.length);
  if (missing !== undefined)
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "options.keep",
      detail:
        `names result element ${missing}, but the result is ` +
        (def.kind === "array" ? `an array of ${children.length}` : "not an array"),
      fix: "list indices of the elements of the returned array",
    });
  return children.flatMap((c, k) => new Array<boolean>(treeLeafCount(c)).fill(keep.includes(k)));
};

/** Takes a spare buffer of exactly `bytes` (recycled), or makes one. */
const bufferOf = (spare: SharedArrayBuffer[], bytes: number): { buffer: SharedArrayBuffer; reused: boolean } => {
  const i = spare.findIndex((b) => b.byteLength === bytes);
  return i >= 0
    ? { buffer: spare.splice(i, 1)[0]!, reused: true }
    : { buffer: new SharedArrayBuffer(bytes), reused: false };
};

/**
 * Runs `f` as worker `task.index` of a call and packs what it returns.
 * @example runShard(step, task) // in a worker, for the task the main thread sent
 */
export const runShard = (f: (...args: unknown[]) => unknown, task: ShardTask): ShardResult => {
  const args = readArguments(task.plan, task.args, task.index, task.size);
  const context = {
    index: task.index,
    size: task.size,
    control: new Int32Array(task.control),
    slots: task.slots,
    slotBytes: task.slotBytes,
    timeoutMs: task.timeoutMs,
  };
  const result: unknown = withCollectives(context, () => f(...args));
  if (result instanceof Promise)
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "f",
      detail: "returned a promise",
      fix: "make the function synchronous (collectives wait in place; an await would leave them)",
    });
  if (task.keep.length === 0 && task.size === 1) return { packed: packResult(result, "pmap"), kept: [] };
  const [values, def] = treeFlatten(result);
  const kept = keptLeaves(def, task.keep);
  // Axes that do not fit the result are the main thread's error to report (see `gather`): then
  // every leaf travels whole, as if sharded.
  const axes = axesOrUndefined(def, task.outAxes) ?? new Array<ShardAxis>(values.length).fill(0);
  const spare = [...task.spare];
  const reports: KeptLeaf[] = [];
  const replicated: ReplicatedLeaf[] = [];
  const rest = values.map((v, j) => {
    if (!T.isTensor(v)) return v;
    if (!kept[j]) {
      if (axes[j] !== null || task.size === 1) return v;
      // Only worker 0 ships a replicated leaf; the others' copies are compared by checksum.
      replicated.push({ leaf: j, dtype: v.dtype, shape: [...v.shape], checksum: checksum(v.data) });
      return task.index === 0 ? v : T.zeros([0], v.dtype);
    }
    const t = v;
    const report = { leaf: j, dtype: t.dtype, shape: [...t.shape] };
    if (axes[j] === null && task.index !== 0) reports.push({ ...report, checksum: checksum(t.data) });
    else {
      const { buffer, reused } = bufferOf(spare, t.data.length * BYTES[t.dtype]);
      viewOf(t.dtype, buffer, 0, t.data.length).set(t.data);
      reports.push({ ...report, buffer, reused, ...(axes[j] === null ? { checksum: checksum(t.data) } : {}) });
    }
    // The main thread reads kept leaves from their buffers; the packed result carries no data for them.
    return T.zeros([0], t.dtype);
  });
  const packed = packResult(treeUnflatten(def, rest), "pmap");
  return task.size === 1 ? { packed, kept: reports } : { packed, kept: reports, replicated };
};

/** `leafAxes`, or undefined where `outAxes` does not fit the result. */
const axesOrUndefined = (def: TreeDef, outAxes: ShardAxis | readonly ShardAxis[]): ShardAxis[] | undefined => {
  try {
    return leafAxes(def, outAxes);
  } catch {
    return undefined;
  }
};
