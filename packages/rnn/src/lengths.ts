/**
 * @file Per-sample valid lengths: validation, step masks, and reversing each sample's valid prefix.
 */
import * as T from "@rewind/tensor";
import { expandDims, gather, isTracer, less, reshape, sub, where, type Value } from "@rewind/autodiff";

/**
 * Checks `lengths` for a batch of `batch` sequences of `time` steps: int32 (or integer numbers),
 * shape `[batch]`, every value in [0, time]. Traced lengths are checked for dtype and shape only.
 * @throws TensorException naming `op`, what was wrong, and what to pass instead.
 * @example validateLengths("rnn", [3, 1], 2, 4) // int32 tensor [3, 1]
 */
export const validateLengths = (op: string, lengths: Value | readonly number[], batch: number, time: number): Value => {
  const bad = (detail: string): never =>
    T.fail({ _tag: "ValueError", op, arg: "lengths", detail, fix: `pass one integer per sample, each in [0, ${time}] (an int32 tensor of shape [${batch}])` });
  if (Array.isArray(lengths)) {
    if (lengths.length !== batch) bad(`has ${lengths.length} entries for a batch of ${batch}`);
    lengths.forEach((n, i) => {
      if (!Number.isInteger(n)) bad(`lengths[${i}] = ${n} is not an integer`);
    });
    return check(op, T.fromDataOrThrow(lengths as readonly number[], [batch], "int32"), batch, time, bad);
  }
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
export const stepMask = (lengths: Value, time: number): Value =>
  less(expandDims(T.arange(time), 1), expandDims(lengths, 0));

/**
 * Reverses each sample's valid prefix along the time axis of a time-major `[T, B, ...]` tensor,
 * leaving the padding where it is (so running forward over the result reads each sequence
 * backward, and applying it twice is the identity).
 * @example reverseValid(xs, tensor([2, 3], "int32"))
 */
export const reverseValid = (xs: Value, lengths: Value): Value => {
  const time = xs.shape[0]!;
  const t = expandDims(T.arange(time), 1);
  const len = expandDims(lengths, 0);
  const idx = where(less(t, len), sub(sub(len, 1), t), t);
  const trailing = xs.shape.slice(2).map(() => 1);
  return gather(xs, reshape(idx, [time, xs.shape[1]!, ...trailing]), 0);
};
