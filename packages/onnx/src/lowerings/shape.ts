/**
 * @file Lowerings of the shape primitives. Shapes are static in a traced graph, so every shape,
 * window and padding is a constant of the model.
 */
import { attr } from "../builder.js";
import { elemType } from "../proto.js";
import type { PartialTable } from "../types.js";

/** Where a Slice with a negative step should end to include index 0 (ONNX clamps it to −1). */
const BEFORE_START = -(2 ** 53 - 1);

/** Row-major strides of a shape. */
const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
};

/** The shape primitives' lowerings. */
export const shapeLowerings: PartialTable<
  "broadcastTo" | "reshape" | "transpose" | "slice" | "unslice" | "flip" | "pad" | "concat" | "convert"
> = {
  broadcastTo: ({ b, ins }, { shape }) => [b.op("Expand", [ins[0]!, b.int64(shape)])],
  reshape: ({ b, ins }, { shape }) => [b.op("Reshape", [ins[0]!, b.int64(shape)])],
  transpose: ({ b, ins }, { perm }) => [b.op("Transpose", [ins[0]!], [attr.ints("perm", perm)])],
  slice: ({ b, ins, inAvals }, { start, step, size }) => {
    const rank = inAvals[0]!.shape.length;
    if (rank === 0) return [b.op("Identity", [ins[0]!])];
    // The window's last index is start + (size − 1)·step; one step past it ends the slice, and a
    // backward slice that reaches index 0 must end "before the start", which ONNX spells INT_MIN.
    const ends = start.map((s, i) => {
      const end = s + size[i]! * step[i]!;
      return step[i]! < 0 && end < 0 ? BEFORE_START : end;
    });
    const axes = start.map((_, i) => i);
    return [b.op("Slice", [ins[0]!, b.int64(start), b.int64(ends), b.int64(axes), b.int64(step)])];
  },
  // Zeros of inShape with x written into the window: ScatterND at the window's element indices
  // (static, so a constant of the model).
  unslice: ({ b, ins, inAvals }, { start, step, size, inShape }) => {
    const dtype = inAvals[0]!.dtype;
    const rank = inShape.length;
    const count = size.reduce((a, d) => a * d, 1);
    const indices = new Array<number>(count * rank);
    const sizeStrides = stridesOf(size);
    for (let n = 0; n < count; n++) {
      for (let d = 0; d < rank; d++) {
        const k = Math.floor(n / sizeStrides[d]!) % size[d]!;
        indices[n * rank + d] = start[d]! + k * step[d]!;
      }
    }
    const zero = b.op("ConstantOfShape", [b.int64(inShape)], [attr.tensor("value", zeroTensor(dtype))]);
    if (count === 0) return [zero];
    return [b.op("ScatterND", [zero, b.int64(indices, [...size, rank]), ins[0]!])];
  },
  flip: ({ b, ins, inAvals }, { axes }) => {
    if (axes.length === 0) return [b.op("Identity", [ins[0]!])];
    const shape = inAvals[0]!.shape;
    const starts = axes.map((a) => shape[a]! - 1);
    const ends = axes.map(() => BEFORE_START);
    const steps = axes.map(() => -1);
    return [b.op("Slice", [ins[0]!, b.int64(starts), b.int64(ends), b.int64(axes), b.int64(steps)])];
  },
  pad: ({ b, ins, inAvals }, { widths, value }) => {
    const dtype = inAvals[0]!.dtype;
    const pads = [...widths.map(([lo]) => lo), ...widths.map(([, hi]) => hi)];
    return [b.op("Pad", [ins[0]!, b.int64(pads), b.scalar(value, dtype)], [attr.string("mode", "constant")])];
  },
  concat: ({ b, ins }, { axis }) => [b.op("Concat", [...ins], [attr.int("axis", axis)])],
  // float → int32 truncates toward zero in both; out-of-range and NaN values differ (README).
  convert: ({ b, ins, inAvals }, { dtype }) => [
    inAvals[0]!.dtype === dtype
      ? b.op("Identity", [ins[0]!])
      : b.op("Cast", [ins[0]!], [attr.int("to", elemType(dtype))]),
  ],
};

/** A one-element zero tensor of `dtype`, ConstantOfShape's `value`. */
const zeroTensor = (dtype: Parameters<typeof elemType>[0]) => ({
  name: "zero",
  dataType: elemType(dtype),
  dims: [1],
  rawData: new Uint8Array(dtype === "float64" || dtype === "int64" ? 8 : dtype === "bool" ? 1 : 4),
});
