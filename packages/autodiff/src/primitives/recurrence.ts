/**
 * @file The first-order linear recurrence h_t = a_t · h_{t−1} + b_t along one axis, in graph ops,
 * for the VJP rules of the cumulative primitives.
 *
 * Computed by recursive doubling (Hillis–Steele): after the step of span d, B_t = Σ over the last
 * 2d terms and A_t = the product of their 2d factors, so ⌈log2 n⌉ steps of shifts, products and
 * sums give h. Division-free and built from differentiable primitives, so the rules that use it
 * are exact with zeros and can be differentiated again; the graph has O(log n) equations.
 */
import * as T from "@rewind/tensor";
import type { Value } from "../core.js";
import type { Kit } from "../kit.js";

/**
 * `v` moved `d` places along `axis` (positive: towards higher indices), the vacated places set to
 * `fill`: `shift(v, 1)[i] = v[i − 1]`, `shift(v, −1)[i] = v[i + 1]`.
 * @example shift(kit, tensor([1, 2, 3]), 0, 1, 9) // [9, 1, 2]
 */
export const shift = (k: Kit, v: Value, axis: number, d: number, fill: number): Value => {
  const n = v.shape[axis]!;
  if (Math.abs(d) >= n) return k.broadcastTo(T.scalar(fill, v.dtype), v.shape);
  const kept = n - Math.abs(d);
  const part = k.sliceWindow(v, {
    start: v.shape.map((_, i) => (i === axis && d < 0 ? -d : 0)),
    step: v.shape.map(() => 1),
    size: v.shape.map((s, i) => (i === axis ? kept : s)),
  });
  return k.pad(
    part,
    v.shape.map((_, i): [number, number] => (i !== axis ? [0, 0] : d > 0 ? [d, 0] : [0, -d])),
    fill,
  );
};

/**
 * h_t = a_t · h_{t−1} + b_t along `axis` with h_{−1} = 0; with `reverse`, h_t = a_t · h_{t+1} + b_t
 * with h_n = 0. `a` and `b` share one shape and dtype.
 * @example recurrence(kit, tensor([1, 2, 3]), tensor([1, 1, 1]), 0, false) // [1, 3, 10]
 */
export const recurrence = (k: Kit, a: Value, b: Value, axis: number, reverse: boolean): Value => {
  if (reverse) {
    const f = (v: Value) => k.flip(v, axis);
    return f(recurrence(k, f(a), f(b), axis, false));
  }
  const n = a.shape[axis]!;
  let factor = a;
  let sum = b;
  for (let d = 1; d < n; d *= 2) {
    sum = k.add(sum, k.mul(factor, shift(k, sum, axis, d, 0)));
    if (2 * d < n) factor = k.mul(factor, shift(k, factor, axis, d, 0));
  }
  return sum;
};
