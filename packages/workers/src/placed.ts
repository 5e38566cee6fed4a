/**
 * @file Values that stay with the workers between `pmap` calls (JAX's arrays that live on their
 * devices): a result element listed in `keep` comes back as a `Placed` handle instead of tensors.
 * Its data sits in `SharedArrayBuffer`s that the workers wrote: one buffer for a replicated value
 * (written by worker 0; the others' copies were checked equal through a checksum), one per worker
 * for a sharded value (each worker's rows). Passing the handle back as an argument gives the
 * workers that memory without copying it through a message or into fresh memory, which is what a
 * training loop does with its parameters and optimizer state at every step.
 *
 * A handle's buffers are never written while the handle is usable: they are recycled only when
 * the handle is donated (`donate` option), after which using it is an error.
 */
import * as T from "@rewind/tensor";
import type { DType, Tensor } from "@rewind/tensor";
import { treeFlatten, treeLeafCount, treeUnflatten, type Concrete, type TreeDef } from "@rewind/autodiff";
import { BYTES, viewOf } from "./views.js";

/** One tensor leaf of a placed value. */
export interface PlacedLeaf {
  /** The leaf's dtype. */
  readonly dtype: DType;
  /** The whole value's shape (a sharded leaf's workers each hold `shape[0] / N` rows). */
  readonly shape: readonly number[];
  /** Whether each worker holds its own rows (true) or worker 0's buffer holds it all (false). */
  readonly sharded: boolean;
  /** One buffer (replicated) or one per worker in worker order (sharded). */
  readonly buffers: readonly SharedArrayBuffer[];
  /** Whether the workers wrote it into recycled memory (a donated value's) rather than new memory. */
  readonly reused: boolean;
}

/**
 * A value kept by the workers of a `pmap` (a result element listed in its `keep` option). Pass it
 * back as an argument to use it without copying; read it on the main thread with `value()`.
 * @typeParam T The pytree type of the value.
 */
export class Placed<T> {
  readonly #def: TreeDef;
  readonly #leaves: readonly PlacedLeaf[];
  #donatedTo: string | undefined;

  /**
   * @param def The value's pytree structure.
   * @param leaves Its tensor leaves, in `treeFlatten` order.
   * @param workers How many workers hold it.
   */
  constructor(
    def: TreeDef,
    leaves: readonly PlacedLeaf[],
    readonly workers: number,
  ) {
    // Built by pmap and place; checked anyway, because the class is exported and a forged handle
    // would otherwise fail later, deep inside value() or a call, with an untyped TypeError.
    checkHandle(def, leaves, workers);
    this.#def = def;
    this.#leaves = leaves;
  }

  /** The value's structure (internal to @rewind/workers). */
  get def(): TreeDef {
    return this.#def;
  }

  /**
   * The leaves, for a call that passes this handle as argument `where` (internal): refused once
   * the handle was donated, because its memory may hold a later result by then.
   */
  leavesFor(op: string, where: string): readonly PlacedLeaf[] {
    if (this.#donatedTo !== undefined)
      T.fail({
        _tag: "ValueError",
        op,
        arg: where,
        detail: `is a placed value that was donated to ${this.#donatedTo}, and its memory was reused since`,
        fix: "use the result of that call instead, or take this argument out of donate to keep the handle usable",
      });
    return this.#leaves;
  }

  /** Marks the handle given up (internal: pmap calls this after a call that donated it). */
  donate(to: string): readonly PlacedLeaf[] {
    const leaves = this.leavesFor("pmap", "a donated argument");
    this.#donatedTo = to;
    return leaves;
  }

  /**
   * The value as tensors on this thread (a copy: the handle stays usable).
   * @example const params = placedParams.value() // e.g. to save a checkpoint
   */
  value(): Concrete<T> {
    const leaves = this.leavesFor("Placed.value", "this").map(copyOut);
    return treeUnflatten<Concrete<T>>(this.#def, leaves);
  }
}

const refuseHandle = (arg: string, detail: string): never =>
  T.fail({
    _tag: "ValueError",
    op: "Placed",
    arg,
    detail,
    fix: "get placed values from place(tree, workers) or a pmap's keep option; do not construct them",
  });

/** Refuses a handle whose parts do not fit together (what `new Placed` of hostile values would make). */
const checkHandle = (def: TreeDef, leaves: readonly PlacedLeaf[], workers: number): void => {
  if (!(Number.isSafeInteger(workers) && workers >= 1))
    refuseHandle("workers", `expected a positive integer, got ${String(workers)}`);
  let count = 0;
  try {
    count = treeLeafCount(def);
  } catch (e) {
    if (!(e instanceof T.RewindError)) throw e;
    refuseHandle("def", e.message);
  }
  if (!Array.isArray(leaves) || leaves.length !== count)
    refuseHandle("leaves", `expected an array of ${count} placed leaves (one per leaf of def)`);
  for (let j = 0; j < count; j++) {
    const leaf = (leaves as readonly unknown[])[j] as Partial<PlacedLeaf> | undefined;
    const shape = leaf?.shape;
    const fits =
      typeof leaf === "object" &&
      leaf !== null &&
      typeof leaf.dtype === "string" &&
      Object.hasOwn(BYTES, leaf.dtype) &&
      Array.isArray(shape) &&
      shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      typeof leaf.sharded === "boolean" &&
      Array.isArray(leaf.buffers);
    if (!fits) return refuseHandle(`leaves[${j}]`, "is not a placed leaf ({ dtype, shape, sharded, buffers, reused })");
    const parts = leaf.sharded ? workers : 1;
    const dims = shape as readonly number[];
    const size = dims.reduce((a, b) => a * b, 1);
    const bytes = (size / parts) * BYTES[leaf.dtype];
    if (leaf.sharded && (dims.length === 0 || dims[0]! % workers !== 0))
      refuseHandle(
        `leaves[${j}]`,
        `is sharded over ${workers} workers but its shape [${dims.join(", ")}] does not split`,
      );
    if (
      leaf.buffers.length !== parts ||
      !leaf.buffers.every((b) => b instanceof SharedArrayBuffer && b.byteLength >= bytes)
    )
      refuseHandle(`leaves[${j}]`, `expected ${parts} SharedArrayBuffer(s) of at least ${bytes} bytes`);
  }
};

/** A placed leaf copied into one fresh tensor (a sharded leaf's rows joined in worker order). */
const copyOut = (leaf: PlacedLeaf): Tensor => {
  const size = leaf.shape.reduce((a, b) => a * b, 1);
  const data = T.allocate(leaf.dtype, size);
  const per = size / leaf.buffers.length;
  leaf.buffers.forEach((b, w) => data.set(viewOf(leaf.dtype, b, 0, per), w * per));
  return T.fromDataOrThrow(data, leaf.shape, leaf.dtype);
};

/**
 * Puts `tree` with the workers of every `pmap` of `workers` workers, without a call: one copy into
 * shared memory, for a value many calls read (a model's weights during evaluation, a constant
 * dataset), like JAX's `device_put_replicated` (axis null) or `device_put_sharded` (axis 0: each
 * worker gets its equal share of axis 0).
 * @example const weights = place(params, 2) // then `await evalStep(weights, batch)` reads it in place
 */
export const place = <Tree>(tree: Tree, workers: number, axis: 0 | null = null): Placed<Tree> => {
  const refuse = (arg: string, detail: string, fix: string): never =>
    T.fail({ _tag: "ValueError", op: "place", arg, detail, fix });
  if (!(Number.isSafeInteger(workers) && workers >= 1))
    refuse("workers", `expected a positive integer, got ${String(workers)}`, "pass the pmap's worker count");
  // Anything else used to be taken for null: `place(x, 2, 1)` replicated x instead of refusing.
  if (axis !== 0 && axis !== null)
    refuse("axis", `expected 0 (sharded) or null (replicated), got ${String(axis)}`, "pass 0 or null");
  const [values, def] = treeFlatten(tree);
  const leaves = values.map((v, j): PlacedLeaf => {
    if (!T.isTensor(v)) return refuse(`tree leaf ${j}`, "is not a tensor", "place concrete tensors (outside jit/grad)");
    const rows = v.shape[0] ?? 0;
    if (axis === 0 && (rows < workers || rows % workers !== 0))
      refuse(
        `tree leaf ${j}`,
        `has ${v.shape.length === 0 ? "no axis 0" : `${rows} rows`}, which do not split into ${workers} equal shards`,
        `pass rows in a multiple of ${workers}, or place it replicated (axis null)`,
      );
    const parts = axis === 0 ? workers : 1;
    const per = v.data.length / parts;
    const buffers = Array.from({ length: parts }, (_, w) => {
      const b = new SharedArrayBuffer(per * BYTES[v.dtype]);
      viewOf(v.dtype, b, 0, per).set(v.data.subarray(w * per, (w + 1) * per));
      return b;
    });
    return { dtype: v.dtype, shape: [...v.shape], sharded: axis === 0, buffers, reused: false };
  });
  return new Placed<Tree>(def, leaves, workers);
};

/**
 * True when `value` is a `Placed` handle.
 * @example isPlaced(result[0])
 */
export const isPlaced = (value: unknown): value is Placed<unknown> => value instanceof Placed;

/** Odd multipliers of the two hashes (FNV-1a's prime and MurmurHash2's constant): two FNV-1a-style hashes. */
const P1 = 0x01000193;
const P2 = 0x5bd1e995;

/** Folds four 32-bit lanes into one word; each lane alone is a bijection of the result. */
const fold = (l0: number, l1: number, l2: number, l3: number): number =>
  (l0 ^ ((l1 << 8) | (l1 >>> 24)) ^ ((l2 << 16) | (l2 >>> 16)) ^ ((l3 << 24) | (l3 >>> 8))) >>> 0;

/**
 * A 64-bit checksum of the bytes of `data` as two 32-bit words: replicated values kept by the
 * workers are compared through it (each worker hashes its own copy, in parallel) instead of
 * shipping every copy to the main thread.
 *
 * Word i goes to lane i mod 4 of each hash, so the four lanes' multiply chains run side by side
 * (one chain waits ~4 cycles a word for its multiply; a gradient of 100 k floats hashed 0.12 →
 * ~0.04 ms, on every worker's critical path of a pmap call). Within a lane each step is a bijection
 * of the state for a given word, and so is the fold for each lane, so copies that differ in one
 * word always get different checksums; more differences collide with chance ~2⁻⁶⁴.
 * @example checksum(new Float32Array([1, 2])) // [h1, h2]
 */
export const checksum = (data: ArrayBufferView): readonly [number, number] => {
  // Equal bytes must hash alike wherever they sit: a view not on a word boundary (a bool
  // tensor's, which may start at any byte) is hashed from an aligned copy.
  if (data.byteOffset % 4 !== 0) return checksum(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
  const words = data.byteLength >> 2;
  const w32 = new Int32Array(data.buffer, data.byteOffset, words);
  let a0 = 0x811c9dc5 | 0,
    a1 = 0x050c5d1f | 0,
    a2 = 0x2f1a6b7c | 0,
    a3 = 0x63a4f0d1 | 0;
  let b0 = 0x1b873593 | 0,
    b1 = 0x7f4a7c15 | 0,
    b2 = 0x3c6ef372 | 0,
    b3 = 0x5be0cd19 | 0;
  let i = 0;
  for (; i + 4 <= words; i += 4) {
    const w0 = w32[i]!,
      w1 = w32[i + 1]!,
      w2 = w32[i + 2]!,
      w3 = w32[i + 3]!;
    a0 = Math.imul(a0 ^ w0, P1);
    a1 = Math.imul(a1 ^ w1, P1);
    a2 = Math.imul(a2 ^ w2, P1);
    a3 = Math.imul(a3 ^ w3, P1);
    b0 = Math.imul(b0 ^ w0, P2);
    b1 = Math.imul(b1 ^ w1, P2);
    b2 = Math.imul(b2 ^ w2, P2);
    b3 = Math.imul(b3 ^ w3, P2);
  }
  // The last words (fewer than four) and bytes (a length not a multiple of 4) go to lane 0.
  for (; i < words; i++) {
    a0 = Math.imul(a0 ^ w32[i]!, P1);
    b0 = Math.imul(b0 ^ w32[i]!, P2);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let j = words * 4; j < data.byteLength; j++) {
    a0 = Math.imul(a0 ^ bytes[j]!, P1);
    b0 = Math.imul(b0 ^ bytes[j]!, P2);
  }
  // The length keeps a prefix of zero words from hashing like the whole.
  return [fold(a0 ^ data.byteLength, a1, a2, a3), fold(b0, b1, b2, b3 ^ data.byteLength)];
};

/** The result type of a function whose elements `K` stay with the workers as `Placed` handles. */
export type KeptResult<R, K extends number> = [K] extends [never]
  ? R
  : R extends readonly unknown[]
    ? { -readonly [I in keyof R]: I extends `${K}` ? Placed<R[I]> : R[I] }
    : R;
