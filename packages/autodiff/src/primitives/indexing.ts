/**
 * @file Integer indexing and its transposes: take / addAt and gather / addAlongAxis.
 * Indices are int32 and never receive a cotangent.
 */
import * as T from "@rewind/tensor";
import { isTracer, type Value } from "../core.js";
import type { Kit } from "../kit.js";
import { definePrimitive, type BatchContext, type BatchResult } from "../Primitive.js";
import { iota, materialize, moveAxis, shiftAxis } from "./batching.js";

/** Params of the indexing primitives: the axis indexed. */
export interface IndexAxisParams {
  /** The axis indexed, non-negative. */
  readonly axis: number;
}

/**
 * Batched indices `idx` ([B, ...is], int32, negatives counting from the end of an axis of `n`)
 * as positions in the axis of B·n rows that merges the batch axis with the indexed one.
 *
 * Merging would let an index out of range for one example read a row of its neighbour (index
 * `n` of example 0 is row 0 of example 1), so out-of-range indices never reach the merged take:
 * concrete ones raise the unbatched op's error here, traced ones become `B·n`, out of range for
 * the merged axis too, so the take or addAt raises when the graph runs.
 */
const mergedIndices = (k: Kit, op: "take" | "addAt", idx: Value, n: number, axis: number): Value => {
  const [size, ...rest] = idx.shape;
  if (!isTracer(idx)) checkRows(op, idx, n, axis);
  const offsets = T.fromDataOrThrow(
    iota(size!).map((b) => b * n),
    [size!, ...rest.map(() => 1)],
    "int32",
  );
  const wrapped = k.where(k.less(idx, 0), k.add(idx, n), idx);
  const merged = k.add(wrapped, offsets);
  if (!isTracer(idx)) return merged;
  const outside = k.logicalOr(k.less(wrapped, 0), k.greaterEqual(wrapped, n));
  return k.where(outside, size! * n, merged);
};

/** Throws the unbatched op's out-of-range error for the first index of `idx` ([B, ...is]) outside [-n, n). */
const checkRows = (op: string, idx: T.Tensor, n: number, axis: number): void => {
  const data = idx.data;
  for (let j = 0; j < data.length; j++) {
    const i = data[j]!;
    if (i < -n || i >= n) {
      const per = data.length / idx.shape[0]!;
      T.fail({
        _tag: "ValueError",
        op,
        arg: "indices",
        detail:
          `index ${i} (at flat position ${j % per} of the indices of example ${Math.floor(j / per)} under vmap) ` +
          `is out of range for axis ${axis} of size ${n}`,
        fix: n === 0 ? "an axis of size 0 cannot be indexed" : `use indices in [${-n}, ${n - 1}]`,
      });
    }
  }
};

/** x batched at 0 ([B, ...pre, n, ...post], indexed axis `axis + 1`) as [B·n, ...pre, ...post]. */
const mergeRows = (k: Kit, x0: Value, axis: number): Value => {
  const x1 = moveAxis(k, x0, axis + 1, 1);
  return k.reshape(x1, [x1.shape[0]! * x1.shape[1]!, ...x1.shape.slice(2)]);
};

/** take with per-example indices: one take from the rows of every example, merged into one axis. */
const takeBatch = (
  [x, idx]: readonly Value[],
  { dims: [dx, di], params: { axis }, bind }: BatchContext<IndexAxisParams>,
  k: Kit,
): BatchResult => {
  if (di === null) {
    // shared indices: the batch axis stays, after the index axes if it came after the indexed axis
    const a = shiftAxis(axis, dx!);
    return [bind([x!, idx!], { axis: a }), [dx! < a ? dx! : dx! + idx!.shape.length - 1]];
  }
  const ib = moveAxis(k, idx!, di!, 0);
  // shared x: the batch axis is the first index axis
  if (dx === null) return [bind([x!, ib], { axis }), [axis]];
  const x0 = moveAxis(k, x!, dx!, 0);
  const [out] = bind([mergeRows(k, x0, axis), mergedIndices(k, "take", ib, x0.shape[axis + 1]!, axis)], { axis: 0 });
  // [B, ...is, ...pre, ...post] back to the per-example layout [B, ...pre, ...is, ...post]
  const ni = ib.shape.length - 1;
  const pre = iota(axis).map((i) => i + 1 + ni);
  const is = iota(ni).map((i) => i + 1);
  const post = iota(out!.shape.length - 1 - ni - axis).map((i) => i + 1 + ni + axis);
  return [[k.transpose(out!, [0, ...pre, ...is, ...post])], [0]];
};

/** addAt with per-example indices: one scatter into the merged rows of every example. */
const addAtBatch = (
  [x, idx, values]: readonly Value[],
  { dims: [dx, di, dv], size, params: { axis }, bind }: BatchContext<IndexAxisParams>,
  k: Kit,
): BatchResult => {
  const x0 = materialize(k, x!, dx!, size, 0);
  const v0 = materialize(k, values!, dv!, size, 0);
  if (di === null) return [bind([x0, idx!, v0], { axis: axis + 1 }), [0]];
  const ib = moveAxis(k, idx!, di!, 0);
  const ni = ib.shape.length - 1;
  const n = x0.shape[axis + 1]!;
  // values [B, ...pre, ...is, ...post] to [B, ...is, ...pre, ...post], the layout of take's output
  const pre = iota(axis).map((i) => i + 1);
  const is = iota(ni).map((i) => i + 1 + axis);
  const post = iota(v0.shape.length - 1 - axis - ni).map((i) => i + 1 + axis + ni);
  const vt = k.transpose(v0, [0, ...is, ...pre, ...post]);
  const [flat] = bind([mergeRows(k, x0, axis), mergedIndices(k, "addAt", ib, n, axis), vt], { axis: 0 });
  const x1 = moveAxis(k, x0, axis + 1, 1);
  return [[moveAxis(k, k.reshape(flat!, x1.shape), 1, axis + 1)], [0]];
};

/** gather and addAlongAxis: every operand gets the batch axis first; the axis shifts past it. */
const alongAxisBatch = (
  ins: readonly Value[],
  { dims, size, params: { axis }, bind }: BatchContext<IndexAxisParams>,
  k: Kit,
): BatchResult => [
  bind(
    ins.map((v, i) => materialize(k, v, dims[i]!, size, 0)),
    { axis: axis + 1 },
  ),
  [0],
];

/** np.take along an axis: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export const take = definePrimitive<"take", IndexAxisParams>({
  name: "take",
  abstractEval: ([x, idx], { axis }) => [
    { shape: [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype },
  ],
  impl: ([x, idx], { axis }) => [T.take(x!, idx!, axis)],
  // d take(x, i) = scatter-add of the cotangent at i
  vjp: ([g], { ins: [x, idx], params: { axis } }, { addAt, zerosLike }) => [addAt(zerosLike(x!), idx!, g!, axis), null],
  batch: takeBatch,
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
  batch: addAtBatch,
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
  batch: alongAxisBatch,
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
  batch: alongAxisBatch,
});

/** The indexing primitives, keyed by name. */
export const indexingPrimitives = { take, addAt, gather, addAlongAxis } as const;
