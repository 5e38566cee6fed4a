/**
 * @file Shape primitives: explicit broadcasting, reshape, transpose, strided slices and their
 * transpose, flip, pad, concat, and dtype conversion. `broadcastTo` is the one place where
 * cotangents are summed back to a smaller shape.
 */
import * as T from "@rewind/tensor";
import type { Aval } from "../Graph.js";
import { definePrimitive } from "../Primitive.js";
import { firstDim, insertAt, materialize, moveAxis, sameLayoutBatch, shiftAxis } from "./batching.js";
import { sameAval } from "./helpers.js";

/** Params holding a target shape. */
export interface ShapeParams {
  /** The output shape. */
  readonly shape: readonly number[];
}

/** Broadcast to a larger shape (NumPy rules). The ops layer inserts it wherever operands differ. */
export const broadcastTo = definePrimitive<"broadcastTo", ShapeParams>({
  name: "broadcastTo",
  abstractEval: ([x], { shape }) => {
    T.broadcastShapes("broadcastTo", x!.shape, shape);
    return [{ shape, dtype: x!.dtype }];
  },
  impl: ([x], { shape }) => [T.broadcastTo(x!, shape)],
  // d broadcast(x) = sum of the cotangent over the broadcast axes
  vjp: ([g], { ins: [x] }, { sumTo }) => [sumTo(g!, x!.shape)],
  // the batch axis goes first; the per-example axes align on the right, as NumPy broadcasting does
  batch: ([x], { dims: [d], size, params: { shape }, bind }, k) => {
    const x0 = moveAxis(k, x!, d!, 0);
    const ones = new Array<number>(shape.length - (x0.shape.length - 1)).fill(1);
    return [bind([k.reshape(x0, [size, ...ones, ...x0.shape.slice(1)])], { shape: [size, ...shape] }), [0]];
  },
});

/** Reshape to a shape of the same size (fully resolved: no −1). */
export const reshape = definePrimitive<"reshape", ShapeParams>({
  name: "reshape",
  abstractEval: ([x], { shape }) => {
    if (T.sizeOf(shape) !== T.sizeOf(x!.shape)) {
      T.fail({
        _tag: "ShapeError",
        op: "reshape",
        arg: "shape",
        shapes: [x!.shape, shape],
        detail: "sizes differ",
        fix: "keep the element count",
      });
    }
    return [{ shape, dtype: x!.dtype }];
  },
  impl: ([x], { shape }) => [T.reshape(x!, shape)],
  // d reshape(x) = reshape of the cotangent back
  vjp: ([g], { ins: [x] }, { reshape }) => [reshape(g!, x!.shape)],
  // with the batch axis first, each example's elements stay contiguous
  batch: ([x], { dims: [d], size, params: { shape }, bind }, k) => [
    bind([moveAxis(k, x!, d!, 0)], { shape: [size, ...shape] }),
    [0],
  ],
});

/** Params of transpose: a permutation of the axes. */
export interface PermParams {
  /** Output axis i is input axis `perm[i]`. */
  readonly perm: readonly number[];
}

/** Permute axes. */
export const transpose = definePrimitive<"transpose", PermParams>({
  name: "transpose",
  abstractEval: ([x], { perm }) => [{ shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype }],
  impl: ([x], { perm }) => [T.transpose(x!, perm)],
  // d transpose(x, p) = transpose(ct, p⁻¹)
  vjp: ([g], { params: { perm } }, { transpose }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transpose(g!, inverse)];
  },
  // one transpose that also brings the batch axis first
  batch: ([x], { dims: [d], params: { perm }, bind }) => [
    bind([x!], { perm: [d!, ...perm.map((p) => shiftAxis(p, d!))] }),
    [0],
  ],
});

/** A resolved strided window: per axis, first index, step (non-zero, may be negative) and count. */
export interface WindowParams {
  /** First index per axis. */
  readonly start: readonly number[];
  /** Step per axis, non-zero (negative walks backwards). */
  readonly step: readonly number[];
  /** Number of elements taken per axis. */
  readonly size: readonly number[];
}

const windowView = (shape: T.Shape, { start, step }: WindowParams): { strides: number[]; offset: number } => {
  const base = T.stridesOf(shape);
  return {
    strides: base.map((s, i) => s * step[i]!),
    offset: base.reduce((acc, s, i) => acc + s * start[i]!, 0),
  };
};

/** A strided window of x (Python slicing, resolved); reading it shares nothing with writes. */
export const slice = definePrimitive<"slice", WindowParams>({
  name: "slice",
  abstractEval: ([x], w) => [{ shape: w.size, dtype: x!.dtype }],
  impl: ([x], w) => {
    const { strides, offset } = windowView(x!.shape, w);
    return [T.fromBuffer(x!.dtype, w.size, T.gatherView(x!.dtype, x!.data, w.size, strides, offset))];
  },
  // d slice(x) = the cotangent placed back into a zero tensor of x's shape
  vjp: ([g], { ins: [x], params }, { unslice }) => [unslice(g!, x!.shape, params)],
  // the whole batch axis is taken
  batch: ([x], { dims: [d], size, params: w, bind }) => [
    bind([x!], { start: insertAt(w.start, d!, 0), step: insertAt(w.step, d!, 1), size: insertAt(w.size, d!, size) }),
    [d!],
  ],
});

/** Params of unslice: the window plus the shape of the tensor it is written into. */
export interface UnsliceParams extends WindowParams {
  /** The shape of the zeros the window is written into (the sliced tensor's shape). */
  readonly inShape: readonly number[];
}

/** The transpose of `slice`: zeros of `inShape` with x written into the window. */
export const unslice = definePrimitive<"unslice", UnsliceParams>({
  name: "unslice",
  abstractEval: ([x], p) => [{ shape: p.inShape, dtype: x!.dtype }],
  impl: ([x], p) => {
    const { strides, offset } = windowView(p.inShape, p);
    const offsets = T.viewOffsets(p.size, strides, offset);
    const out = T.allocate(x!.dtype, T.sizeOf(p.inShape));
    for (let i = 0; i < offsets.length; i++) out[offsets[i]!] = x!.data[i]!;
    return [T.fromBuffer(x!.dtype, p.inShape, out)];
  },
  // d unslice(x) = slice of the cotangent
  vjp: ([g], { params: { start, step, size } }, { sliceWindow }) => [sliceWindow(g!, { start, step, size })],
  // each example is written into its own zeros
  batch: ([x], { dims: [d], size, params: p, bind }) => [
    bind([x!], {
      start: insertAt(p.start, d!, 0),
      step: insertAt(p.step, d!, 1),
      size: insertAt(p.size, d!, size),
      inShape: insertAt(p.inShape, d!, size),
    }),
    [d!],
  ],
});

/** Params listing axes. */
export interface AxesListParams {
  /** The axes, non-negative. */
  readonly axes: readonly number[];
}

/** Reverse the order of elements along axes. */
export const flip = definePrimitive<"flip", AxesListParams>({
  name: "flip",
  abstractEval: ([x]) => [x!],
  impl: ([x], { axes }) => [T.flip(x!, axes)],
  // d flip(x) = flip(ct)
  vjp: ([g], { params: { axes } }, { flip }) => [flip(g!, axes)],
  batch: ([x], { dims: [d], params: { axes }, bind }) => [
    bind([x!], { axes: axes.map((a) => shiftAxis(a, d!)) }),
    [d!],
  ],
});

/** Params of pad: (before, after) widths per axis and the fill value. */
export interface PadParams {
  /** `[before, after]` per axis, non-negative. */
  readonly widths: ReadonlyArray<readonly [number, number]>;
  /** The fill value. */
  readonly value: number;
}

/** Constant padding. */
export const pad = definePrimitive<"pad", PadParams>({
  name: "pad",
  abstractEval: ([x], { widths }) => [
    { shape: x!.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]), dtype: x!.dtype },
  ],
  impl: ([x], { widths, value }) => [T.pad(x!, widths, value)],
  // d pad(x) = the cotangent's interior window
  vjp: ([g], { ins: [x], params: { widths } }, { sliceWindow }) => [
    sliceWindow(g!, { start: widths.map(([lo]) => lo), step: widths.map(() => 1), size: x!.shape }),
  ],
  // the batch axis is not padded
  batch: ([x], { dims: [d], params: { widths, value }, bind }) => [
    bind([x!], { widths: [...widths.slice(0, d!), [0, 0] as const, ...widths.slice(d!)], value }),
    [d!],
  ],
});

/** Params of concat: the axis. */
export interface AxisParam {
  /** The axis joined along, non-negative. */
  readonly axis: number;
}

/** Join same-dtype tensors along an existing axis. */
export const concat = definePrimitive<"concat", AxisParam>({
  name: "concat",
  abstractEval: (ins, { axis }) => {
    const first = ins[0]!;
    sameAval(
      "concat",
      ins.map((a) => ({ shape: a.shape.map((d, i) => (i === axis ? 0 : d)), dtype: a.dtype })),
    );
    const total = ins.reduce((acc, a) => acc + a.shape[axis]!, 0);
    return [{ shape: first.shape.map((d, i) => (i === axis ? total : d)), dtype: first.dtype }];
  },
  impl: (ins, { axis }) => [T.concat(ins, axis)],
  // d concat(xs) = the matching windows of the cotangent
  vjp: ([g], { ins, params: { axis }, needs }, { sliceWindow }) => {
    let offset = 0;
    return ins.map((x, i) => {
      const start = x.shape.map((_, j) => (j === axis ? offset : 0));
      offset += x.shape[axis]!;
      return needs[i] ? sliceWindow(g!, { start, step: x.shape.map(() => 1), size: x.shape }) : null;
    });
  },
  // every operand gets the same batch axis; the joined axis shifts past it
  batch: (ins, { dims, size, params: { axis }, bind }, k) => {
    const d = firstDim(dims);
    return [
      bind(
        ins.map((x, i) => materialize(k, x, dims[i]!, size, d)),
        { axis: shiftAxis(axis, d) },
      ),
      [d],
    ];
  },
});

/** Params of convert: the target dtype. */
export interface DTypeParams {
  /** The dtype converted to. */
  readonly dtype: T.DType;
}

/** Cast to another dtype; gradients flow only between float dtypes. */
export const convert = definePrimitive<"convert", DTypeParams>({
  name: "convert",
  abstractEval: ([x], { dtype }): Aval[] => [{ shape: x!.shape, dtype }],
  impl: ([x], { dtype }) => [T.astype(x!, dtype)],
  // d convert(x) = convert(ct) back to x's dtype (zero across int/bool)
  vjp: ([g], { ins: [x], params: { dtype } }, { astype }) => [
    T.isFloating(x!.dtype) && T.isFloating(dtype) ? astype(g!, x!.dtype) : null,
  ],
  batch: sameLayoutBatch,
});

/** The shape primitives, keyed by name. */
export const shapePrimitives = { broadcastTo, reshape, transpose, slice, unslice, flip, pad, concat, convert } as const;
