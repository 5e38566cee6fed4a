/**
 * @file Moving a value along one axis with a fill, in graph ops (a slice and a pad: views in
 * compiled code), for the VJP rules of the cumulative primitives.
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
  const part = k.sliceWindow(v, {
    start: v.shape.map((_, i) => (i === axis && d < 0 ? -d : 0)),
    step: v.shape.map(() => 1),
    size: v.shape.map((s, i) => (i === axis ? n - Math.abs(d) : s)),
  });
  return k.pad(
    part,
    v.shape.map((_, i): [number, number] => (i !== axis ? [0, 0] : d > 0 ? [d, 0] : [0, -d])),
    fill,
  );
};
