/**
 * @file What the main thread and a kernel thread share: the indices of the control words (an
 * Int32Array over a SharedArrayBuffer, one per kernel thread) and the messages that tell a kernel
 * thread of a runner's memory.
 *
 * A product: the main thread writes the fields, then increments `request` and notifies it. Whoever
 * claims the request first computes its rows (`claim`): the kernel thread as soon as it sees it,
 * or the main thread once its own rows are done and the kernel thread has not started (it may have
 * no core of its own: the machine is busy). A kernel thread that claimed it computes, writes
 * `status` (0 done, 1 failed: the error follows on the port), then stores the request's number in
 * `done` and notifies it; one that lost the claim only moves on. `request` −1 stops the thread.
 * A loop's second part travels the same way (`kind` 1), its arguments in the words from `args` on;
 * so does a pair of products of one a (`kind` 2: the product's fields, the second's in `args`).
 * The fields are written and read here (`writeProduct`, `readProduct`, `writeLoop`, `loopArgs`), so
 * the two sides cannot disagree on them.
 */
import type { ArenaProduct, SecondProduct } from "@rewind/tensor/internal/codegen";

export const CTL = {
  request: 0,
  done: 1,
  status: 2,
  arena: 3,
  packed: 4,
  aAt: 5,
  bAt: 6,
  cAt: 7,
  scratch: 8,
  m: 9,
  k: 10,
  n: 11,
  transA: 12,
  transB: 13,
  aStride: 14,
  /** The number of the last request claimed, by either thread. */
  taken: 15,
  /** 1 while small products split: the kernel thread then spins after each product (`THREAD_SPIN_MS`). */
  spin: 16,
  /**
   * What the request is: 0 a product's rows (the fields above), 1 a loop's second part (below), 2
   * rows of a pair of products of one a (the fields above, then the second's b, c, n and transB
   * from `args` on).
   */
  kind: 17,
  /** The loop kernel's index among its runner's kernels. */
  fn: 18,
  /** How many of its arguments are byte addresses (i32); the rest are float32 scalars. */
  ints: 19,
  argc: 20,
  /** The arguments, from this word on: addresses as integers, scalars as float32 bits. */
  args: 21,
} as const;

/** The most arguments a loop kernel may take to be split (a longer one runs whole). */
export const MAX_LOOP_ARGS = 43;

/** Bytes of the control words. */
export const CTL_BYTES = 4 * (CTL.args + MAX_LOOP_ARGS);

/**
 * How long a kernel thread spins for the next product after computing one, in ms, when products
 * under `FINE_MACS` multiply-adds split: those of a step come tens of microseconds apart, and a
 * thread woken from `Atomics.wait` takes about as long to run again. An idle kernel thread sleeps
 * after this long. Larger products alone come milliseconds apart: then it sleeps at once, and
 * never spins on a core the main thread may need (the machine may be busy).
 */
export const THREAD_SPIN_MS = 0.5;

/** Splitting products under this many multiply-adds makes kernel threads spin between products. */
export const FINE_MACS = 4_000_000;

/**
 * The smallest products that split while the machine has cores to spare (`minMacs: "auto"`): an
 * LSTM step's per-step products at B 32 (32 × 128 × 512, 2.1 M) and B 8 (0.5 M) included.
 */
export const SMALL_MACS = 250_000;

/**
 * How long the main thread spins for a kernel thread's rows, in ms: both halves of a product end
 * within microseconds of each other while the kernel thread has a core; later, it was preempted,
 * and the main thread sleeps instead of taking a core from it.
 */
export const MAIN_SPIN_MS = 0.05;

/**
 * Claims request `request` for the calling thread: true for exactly one of the main thread and the
 * kernel thread. The main thread publishes a request only once the one before it is claimed and
 * finished, so `taken` holds `request − 1` until the claim.
 * @example if (claim(ctl, seq)) computeRows()
 */
export const claim = (ctl: Int32Array, request: number): boolean =>
  Atomics.compareExchange(ctl, CTL.taken, request - 1, request) === request - 1;

/**
 * Waits while word `index` of `ctl` holds `value`: spins up to `spinMs`, then sleeps once, up to
 * `timeoutMs` (a notify wakes it). The caller checks the word again: a sleep may end early.
 * @example while (Atomics.load(ctl, CTL.request) === seen) waitWhile(ctl, CTL.request, seen, 0.5, Infinity)
 */
export const waitWhile = (ctl: Int32Array, index: number, value: number, spinMs: number, timeoutMs: number): void => {
  const spinUntil = performance.now() + spinMs;
  while (Atomics.load(ctl, index) === value) {
    if (performance.now() >= spinUntil) {
      Atomics.wait(ctl, index, value, timeoutMs);
      return;
    }
  }
};

/**
 * Writes a product request's fields: rows `at` of the product over memory `arena` (with b packed
 * ahead when `packed`). Publish it with `publish`.
 * @example writeProduct(ctl, 0, false, part); publish(ctl, ++seq)
 */
export const writeProduct = (ctl: Int32Array, arena: number, packed: boolean, at: ArenaProduct): void => {
  ctl[CTL.kind] = 0;
  ctl[CTL.arena] = arena;
  ctl[CTL.packed] = packed ? 1 : 0;
  ctl[CTL.aAt] = at.aAt | 0;
  ctl[CTL.bAt] = at.bAt | 0;
  ctl[CTL.cAt] = at.cAt | 0;
  ctl[CTL.scratch] = at.scratch | 0;
  ctl[CTL.m] = at.m;
  ctl[CTL.k] = at.k;
  ctl[CTL.n] = at.n;
  ctl[CTL.transA] = at.transA ? 1 : 0;
  ctl[CTL.transB] = at.transB ? 1 : 0;
  ctl[CTL.aStride] = at.aStride ?? 0;
};

/**
 * The product `writeProduct` wrote (its memory and packing in `CTL.arena` and `CTL.packed`).
 * @example kernels.product(readProduct(ctl))
 */
export const readProduct = (ctl: Int32Array): ArenaProduct => {
  const transA = ctl[CTL.transA] === 1;
  return {
    aAt: ctl[CTL.aAt]! >>> 0,
    bAt: ctl[CTL.bAt]! >>> 0,
    cAt: ctl[CTL.cAt]! >>> 0,
    scratch: ctl[CTL.scratch]! >>> 0,
    m: ctl[CTL.m]!,
    k: ctl[CTL.k]!,
    n: ctl[CTL.n]!,
    transA,
    transB: ctl[CTL.transB] === 1,
    aStride: transA ? ctl[CTL.aStride]! : undefined,
  };
};

/**
 * Writes a pair request's fields: rows `at` of the first product and the same rows of `second`
 * over memory `arena` (see `ArenaKernels.productPair`). Publish it with `publish`.
 * @example writePair(ctl, 0, part, { bAt: 64, cAt: 128, n: 32, transB: false }); publish(ctl, ++seq)
 */
export const writePair = (ctl: Int32Array, arena: number, at: ArenaProduct, second: SecondProduct): void => {
  writeProduct(ctl, arena, false, at);
  ctl[CTL.kind] = 2;
  ctl[CTL.args] = second.bAt | 0;
  ctl[CTL.args + 1] = second.cAt | 0;
  ctl[CTL.args + 2] = second.n;
  ctl[CTL.args + 3] = second.transB ? 1 : 0;
};

/**
 * The second product `writePair` wrote (the first: `readProduct`).
 * @example kernels.productPair(readProduct(ctl), readSecond(ctl))
 */
export const readSecond = (ctl: Int32Array): SecondProduct => ({
  bAt: ctl[CTL.args]! >>> 0,
  cAt: ctl[CTL.args + 1]! >>> 0,
  n: ctl[CTL.args + 2]!,
  transB: ctl[CTL.args + 3] === 1,
});

/**
 * Writes a loop request's fields: loop kernel `kernel` of memory `arena`'s runner with `args`, the
 * first `ints` of them byte addresses, the rest float32 scalars (through `floats`, a Float32Array
 * over the same words). Publish it with `publish`.
 * @example writeLoop(ctl, floats, 0, 3, 2, [64, 128, 0.5]); publish(ctl, ++seq)
 */
export const writeLoop = (
  ctl: Int32Array,
  floats: Float32Array,
  arena: number,
  kernel: number,
  ints: number,
  args: readonly number[],
): void => {
  ctl[CTL.kind] = 1;
  ctl[CTL.arena] = arena;
  ctl[CTL.fn] = kernel;
  ctl[CTL.ints] = ints;
  ctl[CTL.argc] = args.length;
  for (let i = 0; i < args.length; i++)
    if (i < ints) ctl[CTL.args + i] = args[i]!;
    else floats[CTL.args + i] = args[i]!;
};

/**
 * The arguments `writeLoop` wrote, in order.
 * @example kernel(...loopArgs(ctl, floats))
 */
export const loopArgs = (ctl: Int32Array, floats: Float32Array): number[] => {
  const ints = ctl[CTL.ints]!;
  return Array.from({ length: ctl[CTL.argc]! }, (_, i) => (i < ints ? ctl[CTL.args + i]! : floats[CTL.args + i]!));
};

/**
 * Publishes request `request` (its fields written) and wakes the kernel thread if it sleeps.
 * @example publish(ctl, ++thread.seq)
 */
export const publish = (ctl: Int32Array, request: number): void => {
  Atomics.store(ctl, CTL.request, request);
  Atomics.notify(ctl, CTL.request);
};

/**
 * A runner's memory to compute in (with `memory`), its loop kernels (with `code`, the module's
 * bytes importing that memory, and `names`, its exports in kernel order), or a runner to forget
 * (neither).
 */
export interface ArenaMessage {
  readonly id: number;
  readonly memory?: object;
  readonly code?: Uint8Array;
  readonly names?: readonly string[];
}
