/**
 * @file How pytrees of tensors travel between the main thread and the workers without structured
 * cloning of their data: arguments are written once into one `SharedArrayBuffer` that every
 * worker reads (each its shard of the sharded leaves), and a worker's results come back packed
 * into one `ArrayBuffer` that is transferred (moved, not copied) to the main thread.
 */
import * as T from "@rewind/tensor";
import type { DType, Tensor } from "@rewind/tensor";
import { isTensor } from "@rewind/tensor";
import { treeFlatten, treeLeafCount, treeUnflatten, type TreeDef } from "@rewind/autodiff";
import { fromBuffer } from "@rewind/tensor/internal/buffers";
import { isPlaced, type Placed } from "./placed.js";
import { align8, BYTES, viewOf } from "./views.js";

/** One tensor leaf in shared memory. */
export interface LeafSlot {
  readonly dtype: DType;
  /** The whole leaf's shape (a sharded leaf's workers each read `shape[0] / N` rows of it). */
  readonly shape: readonly number[];
  /** Byte offset of its data in the buffer. */
  readonly offset: number;
  /** Whether its axis 0 is split among the workers. */
  readonly sharded: boolean;
  /** For a leaf of a `Placed` argument: its buffers, read in place (no bytes in the call's buffer). */
  readonly placed?: readonly SharedArrayBuffer[];
}

/** The arguments of one call as laid out in shared memory. */
export interface PackedArguments {
  /** One structure per argument. */
  readonly defs: readonly TreeDef[];
  /** Every leaf of every argument, in order. */
  readonly leaves: readonly LeafSlot[];
  /** Bytes the layout needs. */
  readonly bytes: number;
}

const refuse = (arg: string, detail: string, fix: string, shapes?: readonly (readonly number[])[]): never =>
  T.fail({ _tag: "ValueError", op: "pmap", arg, detail, fix, ...(shapes === undefined ? {} : { shapes }) });

/**
 * Why a pytree of structure `def` cannot cross between threads (besides its tensors, only data
 * that survives JSON may sit in it), or undefined when it can.
 * @example structureProblem(treeStructure({ lr: 0.1, f: () => 1 }), "") // ".f holds a function, …"
 */
export const structureProblem = (def: TreeDef, path: string): string | undefined => {
  switch (def.kind) {
    case "leaf":
      return undefined;
    case "static": {
      const v = def.value;
      const plain = v === null || v === undefined || ["number", "string", "boolean"].includes(typeof v);
      return plain ? undefined : `${path || "the value"} holds a ${typeof v}, which cannot cross between threads`;
    }
    case "record":
      return `${path || "the value"} is an Immutable Record, which cannot cross between threads`;
    case "map":
      return def.keys.some((k) => typeof k === "object" && k !== null)
        ? `${path || "the value"} is an Immutable Map with object keys`
        : def.children.map((c, i) => structureProblem(c, `${path}.${String(def.keys[i])}`)).find(Boolean);
    case "object":
      return def.children.map((c, i) => structureProblem(c, `${path}.${def.keys[i]}`)).find(Boolean);
    default:
      return def.children.map((c, i) => structureProblem(c, `${path}[${i}]`)).find(Boolean);
  }
};

/** `treeFlatten` of argument `i`, its refusal (a cycle, a donated tensor) restated as pmap's, naming the argument. */
const flattenArgument = (arg: unknown, i: number): [unknown[], TreeDef] => {
  try {
    return treeFlatten(arg);
  } catch (e) {
    if (!(e instanceof T.RewindError)) throw e;
    return refuse(`args[${i}]`, e.message, "pass a pytree of tensors in arrays and plain objects");
  }
};

/**
 * Lays out `args` (with `inAxes[i]` 0 for a sharded argument, null for a replicated one) for
 * `workers` workers: checks every sharded leaf's axis 0 divides evenly into non-empty shards.
 * @example planArguments([params, batch], [null, 0], 2).bytes
 */
export const planArguments = (
  args: readonly unknown[],
  inAxes: readonly (0 | null)[],
  workers: number,
): PackedArguments => {
  const defs: TreeDef[] = [];
  const leaves: LeafSlot[] = [];
  let offset = 0;
  args.forEach((arg, i) => {
    if (isPlaced(arg)) {
      defs.push(arg.def);
      leaves.push(...placedSlots(arg, inAxes[i] === 0, workers, `args[${i}]`));
      return;
    }
    const [values, def] = flattenArgument(arg, i);
    const problem = structureProblem(def, `args[${i}]`);
    if (problem !== undefined)
      refuse(
        `args[${i}]`,
        problem,
        "pass tensors in arrays and plain objects (numbers, strings and booleans may sit beside them)",
      );
    defs.push(def);
    const sharded = inAxes[i] === 0;
    // Without a tensor there is nothing to split: every worker would get the whole value.
    if (sharded && values.length === 0)
      refuse(
        `args[${i}]`,
        "is marked 0 in inAxes (split among the workers) but holds no tensor to split",
        "pass a tensor (or a pytree of tensors) with a batch axis, or mark the argument null",
      );
    values.forEach((v, j) => {
      const where = `args[${i}]${values.length > 1 ? ` leaf ${j}` : ""}`;
      if (!isTensor(v))
        refuse(
          where,
          "is a traced value",
          "call pmap's function on tensors, outside grad/jit/vmap (put those inside it)",
        );
      const t = v as Tensor;
      if (sharded) {
        const rows = t.shape[0];
        if (rows === undefined)
          refuse(
            where,
            "is a scalar, which has no axis 0 to shard",
            "give it a batch axis, or mark it replicated (null)",
          );
        else if (rows < workers || rows % workers !== 0)
          refuse(
            where,
            `a sharded argument has ${rows} rows on axis 0, which do not split into ${workers} equal non-empty shards`,
            `pass a batch whose size is a multiple of ${workers} (drop or pad the last rows), or use fewer workers`,
            [t.shape],
          );
      }
      leaves.push({ dtype: t.dtype, shape: [...t.shape], offset, sharded });
      offset = align8(offset + t.data.length * BYTES[t.dtype]);
    });
  });
  return { defs, leaves, bytes: offset };
};

/** The slots of a placed argument, checked against where `inAxes` puts it. */
const placedSlots = (arg: Placed<unknown>, sharded: boolean, workers: number, where: string): LeafSlot[] => {
  const leaves = arg.leavesFor("pmap", where);
  if (arg.workers !== workers)
    refuse(
      where,
      `is a placed value held by ${arg.workers} workers, but this pmap has ${workers}`,
      "read it with .value() and pass the tensors instead",
    );
  return leaves.map((l) => {
    if (l.sharded !== sharded)
      refuse(
        where,
        `is a placed value whose leaves are ${l.sharded ? "sharded (0)" : "replicated (null)"}, ` +
          `but inAxes marks the argument ${sharded ? "0" : "null"}`,
        "give the argument the axis its value was kept with, or pass .value() instead",
      );
    return { dtype: l.dtype, shape: l.shape, offset: 0, sharded, placed: l.buffers };
  });
};

/**
 * Writes every leaf of `args` into `buffer` at the offsets of `plan` (main thread).
 * @example writeArguments(plan, [params, batch], shared)
 */
export const writeArguments = (plan: PackedArguments, args: readonly unknown[], buffer: SharedArrayBuffer): void => {
  let k = 0;
  for (const a of args) {
    if (isPlaced(a)) {
      k += treeLeafCount(a.def);
      continue;
    }
    for (const t of treeFlatten(a)[0] as Tensor[]) {
      const slot = plan.leaves[k++]!;
      viewOf(slot.dtype, buffer, slot.offset, t.data.length).set(t.data);
    }
  }
};

/**
 * Worker `index`'s arguments (its shard of each sharded leaf, all of each replicated one),
 * copied out of shared memory so the main thread may reuse the buffer for the next call; the
 * leaves of placed arguments are wrapped where they are (their buffers stay unwritten while the
 * handle is usable).
 * @example readArguments(plan, shared, 0, 2)
 */
export const readArguments = (
  plan: PackedArguments,
  buffer: SharedArrayBuffer,
  index: number,
  workers: number,
): unknown[] => {
  let k = 0;
  return plan.defs.map((def) => {
    const leaves: Tensor[] = [];
    const count = treeLeafCount(def);
    for (let j = 0; j < count; j++) {
      const slot = plan.leaves[k++]!;
      const size = slot.shape.reduce((a, b) => a * b, 1);
      if (slot.placed !== undefined) {
        leaves.push(placedLeaf(slot, slot.placed, index, workers, size));
        continue;
      }
      if (!slot.sharded) {
        leaves.push(T.fromDataOrThrow(viewOf(slot.dtype, buffer, slot.offset, size), slot.shape, slot.dtype));
        continue;
      }
      const rows = slot.shape[0]! / workers;
      const per = size / slot.shape[0]!;
      const start = slot.offset + index * rows * per * BYTES[slot.dtype];
      const shape = [rows, ...slot.shape.slice(1)];
      leaves.push(T.fromDataOrThrow(viewOf(slot.dtype, buffer, start, rows * per), shape, slot.dtype));
    }
    return treeUnflatten(def, leaves);
  });
};

/** A worker's view of a placed leaf: all of a replicated one, its own rows of a sharded one. */
const placedLeaf = (
  slot: LeafSlot,
  buffers: readonly SharedArrayBuffer[],
  index: number,
  workers: number,
  size: number,
): Tensor => {
  if (!slot.sharded) return fromBuffer(slot.dtype, slot.shape, viewOf(slot.dtype, buffers[0]!, 0, size));
  const shape = [slot.shape[0]! / workers, ...slot.shape.slice(1)];
  return fromBuffer(slot.dtype, shape, viewOf(slot.dtype, buffers[index]!, 0, size / workers));
};
