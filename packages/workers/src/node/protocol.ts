/**
 * @file The message the main thread sends each worker per call: where the function lives, where
 * the arguments are in shared memory, and the collectives' shared memory. Only this small
 * description is structured-cloned; `SharedArrayBuffer`s are shared, not copied.
 */
import type { PackedArguments } from "../layout.js";

/** One worker's task for one call. */
export interface WorkerTask {
  /** The module's URL (`file:` in Node), imported once per worker and cached. */
  readonly module: string;
  /** The name of the function the module exports. */
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
}
