/**
 * @file Small helpers the layer shapes share.
 */
import * as T from "@rewind/tensor";
import { reshape, transpose, type Value } from "@rewind/autodiff";

/**
 * Broadcasts a `[B]` mask against a `[B, ...]` value.
 * @example where(maskFor(m, h), h, 0)
 */
export const maskFor = (m: Value, v: Value): Value => reshape(m, [m.shape[0]!, ...v.shape.slice(1).map(() => 1)]);

/**
 * `[B, T, ...]` ⇄ `[T, B, ...]`: swaps the two leading axes, keeping the rest.
 * @example swapBatchTime(zeros([2, 5, 3])).shape // [5, 2, 3]
 */
export const swapBatchTime = (x: Value): Value => transpose(x, x.shape.map((_, i) => (i < 2 ? 1 - i : i)));

/**
 * Throws unless `v` is one vector per sample, `[batch, features]`.
 * @example checkVector("repeatInput", "v", v)
 */
export const checkVector = (op: string, arg: string, v: Value): void => {
  if (v.shape.length !== 2) {
    T.fail({ _tag: "ShapeError", op, arg, shapes: [v.shape], detail: `${arg} must be one vector per sample, [batch, features]`, fix: "reshape it to [batch, features]" });
  }
};

/**
 * Throws unless `n` is an integer ≥ `min` (a number of steps).
 * @example checkSteps("generate", "maxLength", 10, 1)
 */
export const checkSteps = (op: string, arg: string, n: number, min: number): void => {
  if (!Number.isSafeInteger(n) || n < min) {
    T.fail({ _tag: "ValueError", op, arg, detail: `${arg} must be an integer ≥ ${min}, got ${n}`, fix: `pass the number of steps to run (≥ ${min})` });
  }
};
