/**
 * @file The collectives `psum` and `pmean`: one primitive whose impl meets the other workers of a
 * `pmap` call in shared memory.
 *
 * Each worker copies its operands into its own slot, waits at the barrier, then sums the slots in
 * worker order 0, 1, …, N−1 (so every worker computes the same bits, and they equal a
 * single-process sum of the N shard values in that order), and waits again before any slot is
 * reused. Outside a `pmap` call there is one worker and the sum is its own value. The primitive
 * lives here, not in @rewind/autodiff, so pages that never use workers do not carry it.
 */
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { fromBuffer } from "@rewind/tensor/internal/buffers";
import {
  applyPrimitive,
  definePrimitive,
  div,
  treeFlatten,
  treeUnflatten,
  batchByLoop,
  type Primitive,
  type Value,
} from "@rewind/autodiff";
import { arriveAndWait } from "./barrier.js";
import { checksum } from "./placed.js";
import { viewOf } from "./views.js";

/** The shared memory and identity of the worker running a `pmap` call. */
export interface CollectiveContext {
  /** This worker's index, 0 … size − 1. */
  readonly index: number;
  /** The number of workers. */
  readonly size: number;
  /** The barrier's control words. */
  readonly control: Int32Array;
  /** One slot of `slotBytes` per worker, for the operands of collectives. */
  readonly slots: SharedArrayBuffer;
  /** Bytes per worker slot: `SIGNATURE_BYTES`, then room for the largest operands a collective takes. */
  readonly slotBytes: number;
  /** How long a worker waits for the others at a collective. */
  readonly timeoutMs: number;
}

let current: CollectiveContext | undefined;

/**
 * Runs `f` as worker `context.index` of a `pmap` call (the worker entry calls this).
 * @example withCollectives(context, () => step(params, batch))
 */
export const withCollectives = <R>(context: CollectiveContext, f: () => R): R => {
  const outer = current;
  current = context;
  try {
    return f();
  } finally {
    current = outer;
  }
};

/**
 * This worker's index in the running `pmap` call (0 outside one), like JAX's `axis_index`.
 * @example const first = axisIndex() === 0
 */
export const axisIndex = (): number => current?.index ?? 0;

/**
 * The number of workers of the running `pmap` call (1 outside one).
 * @example const shards = axisSize()
 */
export const axisSize = (): number => current?.size ?? 1;

/**
 * Bytes at the start of every slot for the operands' signature: their count, their bytes and a
 * 64-bit checksum of their dtypes and shapes. A worker whose operands differ from another's would otherwise
 * be summed with the other's bytes read at its own lengths: a silently wrong result.
 */
export const SIGNATURE_BYTES = 16;

/** The signature words of `xs` (see `SIGNATURE_BYTES`): the 64-bit checksum of their dtypes and shapes. */
const signatureOf = (xs: readonly Tensor[], bytes: number): Int32Array => {
  const text = xs.map((x) => `${x.dtype}[${x.shape.join(",")}]`).join(";");
  return Int32Array.of(xs.length, bytes, ...checksum(new TextEncoder().encode(text)));
};

/** Refuses operands whose signature differs from another worker's (each worker finds the same mismatch). */
const checkSameOperands = (xs: readonly Tensor[], mine: Int32Array, ctx: CollectiveContext): void => {
  for (let w = 0; w < ctx.size; w++) {
    const theirs = new Int32Array(ctx.slots, w * ctx.slotBytes, mine.length);
    if (mine.every((word, i) => word === theirs[i])) continue;
    T.fail({
      _tag: "ShapeError",
      op: "psum",
      arg: "x",
      shapes: xs.map((x) => x.shape),
      detail:
        `worker ${ctx.index} sums ${xs.length} operand${xs.length === 1 ? "" : "s"} of ${mine[1]} bytes ` +
        `(${xs.map((x) => `${x.dtype} [${x.shape.join(", ")}]`).join(", ")}), but worker ${w} passed ` +
        (theirs[0] === mine[0] && theirs[1] === mine[1]
          ? "operands of other shapes or dtypes"
          : `${theirs[0]} operand${theirs[0] === 1 ? "" : "s"} of ${theirs[1]} bytes`),
      fix:
        "every worker must call psum and pmean with the same tree of dtypes and shapes, in the same order " +
        "(a shard's shapes must not depend on axisIndex() or on its data)",
    });
  }
};

/** Bytes from one operand's start to the next one's in a slot: 8-byte aligned, for float64 views. */
const slotSpan = (x: Tensor): number => Math.ceil(x.data.byteLength / 8) * 8;

/**
 * The in-order sum of every worker's `xs`, each operand apart (what the primitive's impl computes in
 * a worker). All operands travel through one slot and one pair of barrier waits: a gradient of six
 * parameters meets the other workers twice, not twelve times.
 */
const sumOverWorkers = (xs: readonly Tensor[], ctx: CollectiveContext): Tensor[] => {
  const bytes = xs.reduce((total, x) => total + slotSpan(x), 0);
  const room = ctx.slotBytes - SIGNATURE_BYTES;
  if (bytes > room)
    T.fail({
      _tag: "ValueError",
      op: "psum",
      arg: "x",
      shapes: xs.map((x) => x.shape),
      detail:
        `the operand${xs.length > 1 ? `s (${xs.length} leaves) have` : " has"} ${bytes} bytes, ` +
        `more than the ${room} bytes of a collective slot`,
      fix: `pass pmap(…, { collectiveBytes: ${bytes} }) or more, or reduce a smaller value`,
    });
  const mine = ctx.index * ctx.slotBytes;
  const signature = signatureOf(xs, bytes);
  new Int32Array(ctx.slots, mine, signature.length).set(signature);
  let at = SIGNATURE_BYTES;
  for (const x of xs) {
    viewOf(x.dtype, ctx.slots, mine + at, x.data.length).set(x.data);
    at += slotSpan(x);
  }
  arriveAndWait(ctx.control, ctx.size, ctx.timeoutMs, "psum", ctx.index);
  checkSameOperands(xs, signature, ctx);
  at = SIGNATURE_BYTES;
  const sums = xs.map((x) => {
    const n = x.data.length;
    // Typed-array stores round every partial sum to the dtype, as a chain of tensor adds would.
    const sum = T.allocate(x.dtype, n);
    sum.set(viewOf(x.dtype, ctx.slots, at, n));
    for (let w = 1; w < ctx.size; w++) {
      const slot = viewOf(x.dtype, ctx.slots, w * ctx.slotBytes + at, n);
      if (x.dtype === "int32") for (let i = 0; i < n; i++) sum[i] = (sum[i]! + slot[i]!) | 0;
      else for (let i = 0; i < n; i++) sum[i] = sum[i]! + slot[i]!;
    }
    at += slotSpan(x);
    // The sum is this call's own fresh buffer: wrapped, not copied once more (a gradient's worth
    // of copying on every worker's critical path, 0.06 ms for 100 k floats).
    return fromBuffer(x.dtype, x.shape, sum);
  });
  // Nobody may overwrite a slot before every worker has read them all.
  arriveAndWait(ctx.control, ctx.size, ctx.timeoutMs, "psum", ctx.index);
  return sums;
};

/**
 * Refuses bool operands, inside a pmap call or not: one worker's sum of bools would otherwise be
 * its own bools, so a function that works in a single process failed only once run by pmap.
 */
const refuseBool = <X extends { readonly dtype: string }>(xs: readonly X[]): readonly X[] => {
  if (xs.some((x) => x.dtype === "bool"))
    T.fail({
      _tag: "DTypeError",
      op: "psum",
      arg: "x",
      detail: "cannot sum bool values over workers",
      fix: 'cast to int32 first (astype(x, "int32")) to count, or to float32 to average',
    });
  return xs;
};

/**
 * The collective sum primitive, over any number of operands (each summed apart; one meeting of
 * the workers for all). d/dx_i Σ_j x_j = 1 for each worker's own x_i, and every worker's loss
 * depends on every x_i, so the cotangent of x_i is the sum of all workers' cotangents: psum.
 */
export const psumPrimitive: Primitive<"psum", void> = definePrimitive<"psum", void>({
  name: "psum",
  abstractEval: (xs) => refuseBool(xs),
  impl: (xs) => (current === undefined ? refuseBool(xs) : sumOverWorkers(refuseBool(xs), current)),
  vjp: (gs): readonly Value[] => applyPrimitive(psumPrimitive, gs, undefined),
  // Under vmap the examples of one worker are summed with those of the others elementwise.
  batch: batchByLoop,
});

/** Every leaf of `tree` summed over the workers by one psum equation, then `f` of each sum. */
const sumLeaves = <Tree>(op: string, tree: Tree, f: (sum: Value) => Value): Tree => {
  // A pytree's numbers are static structure, never summed: psum(1) would return 1 on every worker
  // (JAX's psum(1) counts the workers), so a bare number is refused rather than passed through.
  if (typeof tree === "number" || typeof tree === "bigint" || typeof tree === "boolean")
    T.fail({
      _tag: "ValueError",
      op,
      arg: "tree",
      detail: `got the ${typeof tree} ${String(tree)}, which a pytree holds as static data that is not summed`,
      fix: "pass a tensor (scalar(x)); for the number of workers use axisSize()",
    });
  const [leaves, def] = treeFlatten(tree);
  if (leaves.length === 0) return tree;
  return treeUnflatten<Tree>(def, applyPrimitive(psumPrimitive, leaves, undefined).map(f));
};

/**
 * Sums every leaf of `tree` over the workers of the running `pmap` call, in worker order (the
 * identity outside one). Every worker must call it, with the same shapes, in the same order: a
 * worker whose operands differ from another's gets a ShapeError naming both, never a wrong sum.
 * Bool leaves are refused (inside a pmap call or not), and so is a bare number: numbers in a
 * pytree are static data, never summed.
 * @example const total = psum(grads) // inside a function run by pmap
 */
export const psum = <Tree>(tree: Tree): Tree => sumLeaves("psum", tree, (x) => x);

/**
 * The mean of every leaf of `tree` over the workers: `psum(tree) / axisSize()`, for averaging
 * gradients in data-parallel training. Integer leaves give their mean in float32 (as `div` does);
 * bool leaves are refused, as by `psum`.
 * @example const grads = pmean(valueAndGrad(loss)(params, batch)[1])
 */
export const pmean = <Tree>(tree: Tree): Tree => {
  const size = axisSize();
  return sumLeaves("pmean", tree, (x) => div(x, size));
};
