/**
 * @file Integer indexing and its transposes: take / addAt and gather / addAlongAxis.
 * Indices are int32 and never receive a cotangent.
 */
import * as T from "@rewind/tensor";
import { definePrimitive } from "../Primitive.js";

/** Params of the indexing primitives: the axis indexed. */
export interface IndexAxisParams {
  /** The axis indexed, non-negative. */
  readonly axis: number;
}

/** np.take along an axis: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export const take = definePrimitive<"take", IndexAxisParams>({
  name: "take",
  abstractEval: ([x, idx], { axis }) => [
    { shape: [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype },
  ],
  impl: ([x, idx], { axis }) => [T.take(x!, idx!, axis)],
  // d take(x, i) = scatter-add of the cotangent at i
  vjp: ([g], { ins: [x, idx], params: { axis } }, { addAt, zerosLike }) => [addAt(zerosLike(x!), idx!, g!, axis), null],
});

/** x with `values` added at the positions `take(·, indices, axis)` reads (repeats accumulate). */
export const addAt = definePrimitive<"addAt", IndexAxisParams>({
  name: "addAt",
  abstractEval: ([x]) => [x!],
  impl: ([x, idx, values], { axis }) => [T.addAt(x!, idx!, values!, axis)],
  // d addAt(x, i, v) = (dx, take(dv, i))
  vjp: ([g], { ins: [, idx], params: { axis }, needs }, { take }) => [
    needs[0] ? g! : null,
    null,
    needs[2] ? take(g!, idx!, axis) : null,
  ],
});

/** np.take_along_axis: indices have x's shape except along `axis`. */
export const gather = definePrimitive<"gather", IndexAxisParams>({
  name: "gather",
  abstractEval: ([x, idx]) => [{ shape: idx!.shape, dtype: x!.dtype }],
  impl: ([x, idx], { axis }) => [T.gather(x!, idx!, axis)],
  // d gather(x, i) = scatter-add of the cotangent along the axis
  vjp: ([g], { ins: [x, idx], params: { axis } }, { addAlongAxis, zerosLike }) => [
    addAlongAxis(zerosLike(x!), idx!, g!, axis),
    null,
  ],
});

/** x with `values` added along an axis at `indices` (the transpose of gather). */
export const addAlongAxis = definePrimitive<"addAlongAxis", IndexAxisParams>({
  name: "addAlongAxis",
  abstractEval: ([x]) => [x!],
  impl: ([x, idx, values], { axis }) => [T.addAlongAxis(x!, idx!, values!, axis)],
  // d addAlongAxis(x, i, v) = (dx, gather(dv, i))
  vjp: ([g], { ins: [, idx], params: { axis }, needs }, { gather }) => [
    needs[0] ? g! : null,
    null,
    needs[2] ? gather(g!, idx!, axis) : null,
  ],
});

/** The indexing primitives, keyed by name. */
export const indexingPrimitives = { take, addAt, gather, addAlongAxis } as const;
