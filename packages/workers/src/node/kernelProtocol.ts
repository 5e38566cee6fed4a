/**
 * @file What the main thread and a kernel thread share: the indices of the control words (an
 * Int32Array over a SharedArrayBuffer, one per kernel thread) and the messages that tell a kernel
 * thread of a runner's memory.
 *
 * A product: the main thread writes the fields, then increments `request` and notifies it; the
 * kernel thread computes, writes `status` (0 done, 1 failed: the error follows on the port), then
 * stores the request's number in `done` and notifies it. `request` −1 stops the thread.
 */
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
} as const;

/** Bytes of the control words. */
export const CTL_BYTES = 4 * 16;

/** A runner's memory to compute in (with `memory`), or one to forget (without). */
export interface ArenaMessage {
  readonly id: number;
  readonly memory?: object;
}
