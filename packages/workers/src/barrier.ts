/**
 * @file A reusable barrier for the workers of one `pmap` call, over a shared `Int32Array`.
 *
 * Every wait is bounded: a worker that waits for its peers wakes when they all arrive, when the
 * main thread aborts the call (a peer threw or died), or when `timeoutMs` passes, and throws in the
 * last two cases instead of hanging. The barrier counts generations, so the same words serve every
 * collective of a call (each collective passes it twice: after writing, and after reading).
 */
import { WorkerFailure } from "./errors.js";

/** Word offsets in the control array. */
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
/** Which worker failed first (valid when ABORTED is 1). */
const FAILED_WORKER = 3;

/** Words the control array needs. */
export const CONTROL_WORDS = 4;

/** How long one `Atomics.wait` sleeps before the waiter rechecks the abort flag and the clock. */
const SLICE_MS = 50;

/** Resets the control words for a new call (the main thread does this while no worker runs). */
export const resetControl = (control: Int32Array): void => {
  for (let i = 0; i < CONTROL_WORDS; i++) Atomics.store(control, i, 0);
};

/**
 * Marks the call aborted because `worker` failed, and wakes every waiter (main thread side).
 * @example abortControl(control, 1)
 */
export const abortControl = (control: Int32Array, worker: number): void => {
  if (Atomics.compareExchange(control, ABORTED, 0, 1) === 0) Atomics.store(control, FAILED_WORKER, worker);
  Atomics.notify(control, GENERATION);
};

/** Whether the call was aborted, and by which worker's failure. */
const abortedBy = (control: Int32Array): number | undefined =>
  Atomics.load(control, ABORTED) === 1 ? Atomics.load(control, FAILED_WORKER) : undefined;

/**
 * Waits until all `size` workers have arrived. Throws a `WorkerFailure` when the call was aborted
 * or after `timeoutMs` without the others arriving.
 * @example arriveAndWait(control, 2, 60_000, "psum", 0)
 */
export const arriveAndWait = (control: Int32Array, size: number, timeoutMs: number, op: string, me: number): void => {
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, ARRIVED, 1) === size - 1) {
    // The last to arrive opens the barrier for this generation.
    Atomics.store(control, ARRIVED, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(control, GENERATION) === generation) {
    const failed = abortedBy(control);
    if (failed !== undefined)
      throw new WorkerFailure(op, me, `stopped because worker ${failed} failed (its own error is reported first)`);
    if (Date.now() > deadline) {
      abortControl(control, me);
      throw new WorkerFailure(
        op,
        me,
        `waited ${timeoutMs} ms for the other workers at a collective and they never arrived ` +
          "(every worker must call the same collectives in the same order; raise pmap's timeoutMs for slow steps)",
      );
    }
    Atomics.wait(control, GENERATION, generation, SLICE_MS);
  }
};
