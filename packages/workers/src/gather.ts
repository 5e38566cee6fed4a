/**
 * @file The workers' results of one call gathered into one: the same structure from every worker,
 * replicated leaves equal in every worker (each worker's copy compared with worker 0's through a
 * 64-bit checksum, so only worker 0 ships the data; bit for bit where a worker reports none), sharded
 * leaves joined in worker order, and kept elements turned into `Placed` handles.
 */
import { shapesEqual, type Tensor } from "@rewind/tensor";
import { treeDefKey, treeLeafCount, treeUnflatten, type TreeDef } from "@rewind/autodiff";
import { WorkerFailure } from "./errors.js";
import { leafAxes, mergeLeaf, replicatedDiffers } from "./merge.js";
import type { ShardAxis } from "./options.js";
import { Placed, type PlacedLeaf } from "./placed.js";
import { unpackResult, type UnpackedResult } from "./results.js";
import type { KeptLeaf, ShardResult } from "./shard.js";

/** One kept leaf from every worker's report of it. */
const placedLeaf = (reports: readonly KeptLeaf[], leaf: number, axis: ShardAxis): PlacedLeaf => {
  const first = reports[0]!;
  const sameShape = (r: KeptLeaf): boolean =>
    r.shape.length === first.shape.length && r.shape.every((d, i) => d === first.shape[i]);
  if (axis === null) {
    const [a, b] = first.checksum!;
    const w = reports.findIndex((r) => !sameShape(r) || r.checksum![0] !== a || r.checksum![1] !== b);
    if (w > 0) throw replicatedDiffers(w, leaf);
    return { dtype: first.dtype, shape: first.shape, sharded: false, buffers: [first.buffer!], reused: first.reused! };
  }
  const w = reports.findIndex((r) => !sameShape(r));
  if (w > 0 || first.shape.length === 0)
    throw new WorkerFailure(
      "pmap",
      Math.max(w, 0),
      `returned result leaf ${leaf} with shape [${reports[Math.max(w, 0)]!.shape.join(", ")}] ` +
        `where worker 0's is [${first.shape.join(", ")}]; a kept sharded value needs equal shards with an axis 0`,
      "return the same shape from every worker, or mark that output null",
    );
  const shape = [first.shape[0]! * reports.length, ...first.shape.slice(1)];
  const buffers = reports.map((r) => r.buffer!);
  return { dtype: first.dtype, shape, sharded: true, buffers, reused: reports.every((r) => r.reused === true) };
};

/**
 * Compares every worker's report of each replicated leaf with worker 0's (dtype, shape and
 * checksum: only worker 0 shipped the data) and returns the leaves so checked.
 */
const checkReplicated = (results: readonly ShardResult[]): Set<number> => {
  const mine = results[0]!.replicated ?? [];
  results.forEach((r, w) => {
    const theirs = r.replicated ?? [];
    const k = theirs.findIndex((t, i) => {
      const m = mine[i];
      return (
        m === undefined ||
        t.leaf !== m.leaf ||
        t.dtype !== m.dtype ||
        !shapesEqual(t.shape, m.shape) ||
        t.checksum[0] !== m.checksum[0] ||
        t.checksum[1] !== m.checksum[1]
      );
    });
    if (k >= 0) throw replicatedDiffers(w, theirs[k]!.leaf);
  });
  return new Set(mine.map((m) => m.leaf));
};

/**
 * The result of a call from the workers' results (in worker order).
 * @example gather(results, [null, 0], [])
 */
export const gather = (
  results: readonly ShardResult[],
  outAxes: ShardAxis | readonly ShardAxis[],
  keep: readonly number[],
): unknown => {
  const unpacked: UnpackedResult[] = results.map((r) => unpackResult(r.packed));
  const first = unpacked[0]!;
  const key = treeDefKey(first.def);
  unpacked.forEach((r, w) => {
    if (treeDefKey(r.def) !== key)
      throw new WorkerFailure(
        "pmap",
        w,
        "returned a result of another structure than worker 0's",
        "return the same pytree structure from every worker",
      );
  });
  const axes = leafAxes(first.def, outAxes);
  const kept = new Map<number, PlacedLeaf>();
  results[0]!.kept.forEach((report, k) => {
    kept.set(
      report.leaf,
      placedLeaf(
        results.map((r) => r.kept[k]!),
        report.leaf,
        axes[report.leaf]!,
      ),
    );
  });
  const checked = checkReplicated(results);
  const leaves = first.leaves.map((leaf, j) =>
    kept.has(j)
      ? undefined
      : checked.has(j)
        ? leaf
        : mergeLeaf(
            unpacked.map((r) => r.leaves[j]!),
            j,
            axes[j]!,
          ),
  );
  if (keep.length === 0) return treeUnflatten(first.def, leaves as Tensor[]);
  // Kept elements become handles; the others are rebuilt from their leaves.
  const children = (first.def as Extract<TreeDef, { kind: "array" }>).children;
  let start = 0;
  return children.map((child, k) => {
    const count = treeLeafCount(child);
    const range = Array.from({ length: count }, (_, i) => start + i);
    start += count;
    return keep.includes(k)
      ? new Placed(
          child,
          range.map((j) => kept.get(j)!),
          results.length,
        )
      : treeUnflatten(
          child,
          range.map((j) => leaves[j]!),
        );
  });
};
