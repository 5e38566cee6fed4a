/**
 * @file Tensors whose memory is gone: their buffer was detached, by jit's `donate` option (the
 * jitted call took the memory over) or by a transfer (`postMessage` with a transfer list,
 * `ArrayBuffer.prototype.transfer`, `structuredClone` with `transfer`). A detached buffer reads
 * as empty, so such a record fails the checks every op runs (its data holds 0 elements where its
 * shape says more); this file says why in words, on that error path only: the happy path of the
 * checks stays as it is.
 *
 * Not re-exported from the package index; autodiff reads it through `@rewind/tensor/internal/check`.
 */
import { showValue } from "./internal.js";

/**
 * Whether `buffer` is detached. A detached buffer has byteLength 0, so anything longer is not;
 * an empty one is told apart by constructing a view on it, which only a detached buffer refuses
 * (`ArrayBuffer.prototype.detached` says it directly, but Node 20 lacks it). Never throws.
 * @example const b = new ArrayBuffer(4); structuredClone(b, { transfer: [b] }); isDetached(b) // true
 */
export const isDetached = (buffer: ArrayBufferLike): boolean => {
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
};

/** The words messages use for the cause; `checkTensor` recognises a detached record by them. */
const GONE = "whose buffer was donated to a jitted call (jit's `donate` option) or transferred";

/**
 * The description of a tensor record whose data is a detached typed array while its shape holds
 * `size` > 0 elements, or undefined when the record is not one. For the error path of the
 * checks: `data` must already be known to be a typed array.
 * @example detachedProblem("float32", [2], 2, donatedArray) // "a float32 tensor of shape [2] whose buffer…"
 */
export const detachedProblem = (
  dtype: string,
  shape: readonly unknown[],
  size: number,
  data: ArrayBufferView,
): string | undefined =>
  size > 0 && data.byteLength === 0 && isDetached(data.buffer)
    ? `a ${dtype} tensor of shape ${showValue(shape)} ${GONE}: its memory now belongs to that call`
    : undefined;

/**
 * Whether a problem text (from `recordProblem`) is the one of a detached record.
 * @example isDetachedProblem(detachedProblem("int32", [1], 1, gone)!) // true
 */
export const isDetachedProblem = (problem: string): boolean => problem.includes(GONE);

/** What to do instead of using a detached tensor. */
export const DETACHED_FIX =
  "use the value the jitted call returned in its place (as in `[params, state] = step(params, state, batch)`), " +
  "or leave this argument out of jit's `donate` option to keep using it after the call";

/**
 * The description of `x` when it is a tensor record whose buffer is detached (see `detachedProblem`),
 * else undefined. Never throws, for any value: for messages about values that failed a check.
 * @example detachedTensorProblem(tensor([1])) // undefined
 */
export const detachedTensorProblem = (x: unknown): string | undefined => {
  if (typeof x !== "object" || x === null) return undefined;
  try {
    // Reading `data` of a tracer throws (it has none), as may any getter of a foreign object.
    const { dtype, shape, data } = x as { dtype?: unknown; shape?: unknown; data?: unknown };
    if (typeof dtype !== "string" || !Array.isArray(shape) || !ArrayBuffer.isView(data)) return undefined;
    let size = 1;
    for (const d of shape as unknown[]) size *= typeof d === "number" ? d : NaN;
    return Number.isFinite(size) ? detachedProblem(dtype, shape, size, data) : undefined;
  } catch {
    return undefined;
  }
};
