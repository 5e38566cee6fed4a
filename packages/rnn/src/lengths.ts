/**
 * @file Per-sample valid lengths: validation, step masks, and reversing each sample's valid prefix.
 */
import * as T from "@rewind/tensor";
import { expandDims, gather, isTracer, isValue, less, reshape, sub, where, type Value } from "@rewind/autodiff";

/**
 * Checks `lengths` for a batch of `batch` sequences of `time` steps: int32 (or integer numbers),
 * shape `[batch]`, every value in [0, time]. Traced lengths are checked for dtype and shape only.
 * @throws TensorException naming `op`, what was wrong, and what to pass instead.
 * @example validateLengths("rnn", [3, 1], 2, 4) // int32 tensor [3, 1]
 */
export const validateLengths = (op: string, lengths: Value | readonly number[], batch: number, time: number): Value => {
  for (const [arg, n] of [
    ["batch", batch],
    ["time", time],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0)
      T.fail({
        _tag: "ValueError",
        op,
        arg,
        detail: `${arg} must be a non-negative integer, got ${String(n)}`,
        fix: `pass the ${arg === "batch" ? "batch size" : "number of time steps"}`,
      });
  }
  const bad = (detail: string): never =>
    T.fail({
      _tag: "ValueError",
      op,
      arg: "lengths",
      detail,
      fix: `pass one integer per sample, each in [0, ${time}] (an int32 tensor of shape [${batch}])`,
    });
  if (Array.isArray(lengths)) {
    if (lengths.length !== batch) bad(`has ${lengths.length} entries for a batch of ${batch}`);
    // Checked as numbers, before the int32 conversion could wrap a huge length into range.
    lengths.forEach((n: unknown, i) => {
      if (typeof n !== "number" || !Number.isInteger(n)) bad(`lengths[${i}] = ${String(n)} is not an integer`);
      else if (n < 0 || n > time) bad(`lengths[${i}] = ${n} is outside [0, ${time}] (the sequence has ${time} steps)`);
    });
    return T.fromDataOrThrow(lengths as readonly number[], [batch], "int32");
  }
  if (!isValue(lengths))
    bad(`must be an int32 tensor or an array of integers, got ${lengths === null ? "null" : typeof lengths}`);
  const v = lengths as Value;
  if (v.dtype !== "int32") bad(`must be int32, got ${v.dtype}`);
  if (v.shape.length !== 1 || v.shape[0] !== batch) bad(`must have shape [${batch}], got [${v.shape.join(", ")}]`);
  return isTracer(v) ? v : check(op, v, batch, time, bad);
};

const check = (_op: string, t: T.Tensor, _batch: number, time: number, bad: (d: string) => never): T.Tensor => {
  t.data.forEach((n, i) => {
    if (n < 0 || n > time) bad(`lengths[${i}] = ${n} is outside [0, ${time}] (the sequence has ${time} steps)`);
  });
  return t;
};

/**
 * `mask[t, b]` is true while step t is inside sample b's valid length: `[time, batch]` bool.
 * @example stepMask(tensor([2, 0], "int32"), 3) // [[true, false], [true, false], [false, false]]
 */
export const stepMask = (lengths: Value, time: number): Value => {
  const len = validateLengths("stepMask", lengths, batchOf(lengths), time);
  return less(expandDims(T.arange(time), 1), expandDims(len, 0));
};

/** The batch a lengths argument implies (its size), for checking it against itself and `time`. */
const batchOf = (lengths: unknown): number =>
  Array.isArray(lengths) ? lengths.length : isValue(lengths) && lengths.shape.length === 1 ? lengths.shape[0]! : 0;

/**
 * Reverses each sample's valid prefix along the time axis of a time-major `[T, B, ...]` tensor,
 * leaving the padding where it is (so running forward over the result reads each sequence
 * backward, and applying it twice is the identity).
 * @example reverseValid(xs, tensor([2, 3], "int32"))
 */
export const reverseValid = (xs: Value, lengths: Value): Value => {
  if (!isValue(xs) || xs.shape.length < 2) {
    T.fail({
      _tag: "ShapeError",
      op: "reverseValid",
      arg: "xs",
      shapes: isValue(xs) ? [xs.shape] : [],
      detail: "xs must be a time-major tensor [time, batch, ...]",
      fix: "pass [T, B, ...] values (swap the leading axes of batch-major ones)",
    });
  }
  const time = xs.shape[0]!;
  const t = expandDims(T.arange(time), 1);
  const len = expandDims(validateLengths("reverseValid", lengths, xs.shape[1]!, time), 0);
  const idx = where(less(t, len), sub(sub(len, 1), t), t);
  const trailing = xs.shape.slice(2).map(() => 1);
  return gather(xs, reshape(idx, [time, xs.shape[1]!, ...trailing]), 0);
};
