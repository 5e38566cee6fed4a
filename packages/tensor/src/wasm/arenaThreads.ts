/**
 * @file The hook through which compiled runners get kernel threads: `@rewind/workers/node`'s
 * `useKernelThreads` installs an `ArenaThreads`, and the autodiff compiler asks it for each
 * runner's memory and product kernels. Nothing here starts a thread: thread code stays out of the
 * core packages (they run in browsers) and out of every bundle that never installs a hook.
 */
import type { ArenaKernels } from "./matmulArena.js";
import type { WasmMemory } from "./api.js";

/** A runner's arena with kernel threads: its shared memory and the kernels that split products. */
export interface ThreadedArena {
  /** A shared WebAssembly memory holding the runner's bytes (and the threads' scratch beyond them). */
  readonly memory: WasmMemory;
  /** The runner's own module bytes (from `encodeModule`) made to import that shared memory. */
  share(bytes: Uint8Array): Uint8Array;
  /** The product kernels on `memory`: large products split by rows across the threads, same bits. */
  readonly kernels: ArenaKernels;
  /**
   * Gives the threads the runner's loop kernels: `shared` is its module as `share` made it, `names`
   * its exports in kernel order, `local` the same functions instantiated in this thread. Returns
   * how a loop's second part goes to a thread (see `LoopSplit`), or undefined when it cannot.
   */
  readonly loops?: (
    shared: Uint8Array,
    names: readonly string[],
    local: readonly LoopKernel[],
  ) => LoopSplit | undefined;
}

/** A loop kernel of a runner's module: byte addresses, then float32 scalars. */
export type LoopKernel = (...args: number[]) => void;

/**
 * Runs a loop split in two parts: kernel `kernel` with `args` (the first `ints` of them byte
 * addresses, the rest float32 scalars) on a thread, while `own` runs the first part here; returns
 * once both are done, or false at once, having run nothing, when the loop should run whole here
 * (the threads are not splitting small work just now, or were stopped). Same bits either way: the
 * parts are the same loop over disjoint rows.
 */
export type LoopSplit = (kernel: number, ints: number, args: readonly number[], own: () => void) => boolean;

/**
 * Builds a runner's arena for `bytes` bytes of planned buffers, staging and packing slots, where
 * no product needs more than `scratchBytes` bytes of scratch; undefined to build it unthreaded.
 */
export type ArenaThreads = (bytes: number, scratchBytes: number) => ThreadedArena | undefined;

let installed: ArenaThreads | undefined;

/**
 * Installs (or with undefined removes) the hook that runners compiled from now on use.
 * @example setArenaThreads(undefined) // runners compiled from now on run single-threaded
 */
export const setArenaThreads = (hook: ArenaThreads | undefined): void => {
  installed = hook;
};

/**
 * The installed hook, if any.
 * @example arenaThreads()?.(65536, 4096) // undefined: no kernel threads
 */
export const arenaThreads = (): ArenaThreads | undefined => installed;
