/**
 * @file Lowerings of the cumulative primitives that ONNX has no operator for (cumprod, cummax,
 * cummin, logcumsumexp, linearScan): each is a recurrence along its axis, so it becomes an ONNX
 * `Scan` over that axis (moved first) whose small body combines the carry with one slice.
 */
import type { CumulativeParams } from "@rewind/autodiff";
import type { DType } from "@rewind/tensor";
import { attr, GraphBuilder, graphOf } from "../builder.js";
import { elemType, valueInfo } from "../proto.js";
import type { LowerContext, Lowering, PartialTable } from "../types.js";

/** The carry's update from the carry and the step's slices (`xs[0]`, and for linearScan `xs[1]`). */
type Combine = (b: GraphBuilder, carry: string, xs: readonly string[], dtype: DType) => string;

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A one-element tensor of `dtype` holding `value` (ConstantOfShape's `value`). */
const filled = (dtype: DType, value: number) => {
  const data =
    dtype === "float32" ? Float32Array.of(value) : dtype === "float64" ? Float64Array.of(value) : Int32Array.of(value);
  return { name: "fill", dataType: elemType(dtype), dims: [1], rawData: new Uint8Array(data.buffer) };
};

/**
 * The Scan of `h_t = combine(h_{t−1}, inputs_t)` along `axis` from `h_{−1} = start`, returning
 * every h_t in the input's layout. Bool inputs run as int32 and are cast back.
 */
const recurrence =
  (start: (dtype: DType) => number, combine: Combine): Lowering<CumulativeParams> =>
  ({ b, ins, inAvals, outAvals }: LowerContext, { axis, reverse }) => {
    const inDtype = inAvals[0]!.dtype;
    const dtype: DType = inDtype === "bool" ? "int32" : inDtype;
    const shape = inAvals[0]!.shape;
    const rank = shape.length;
    const perm = [axis, ...iota(rank).filter((i) => i !== axis)];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const rest = perm.slice(1).map((i) => shape[i]!);
    const moved = ins.map((x) => b.op("Transpose", [b.cast(x, inDtype, dtype)], [attr.ints("perm", perm)]));
    const init = b.op("ConstantOfShape", [b.int64(rest)], [attr.tensor("value", filled(dtype, start(dtype)))]);

    const body = new GraphBuilder(b.names);
    const carry = b.names.fresh("h");
    const slices = ins.map(() => b.names.fresh("x_t"));
    for (const name of [carry, ...slices]) body.inputs.push(valueInfo(name, dtype, rest));
    const next = combine(body, carry, slices, dtype);
    for (const out of [body.op("Identity", [next]), body.op("Identity", [next])])
      body.outputs.push(valueInfo(out, dtype, rest));

    const direction = reverse ? 1 : 0;
    const [, ys] = b.node(
      "Scan",
      [init, ...moved],
      [
        attr.graph("body", graphOf(body, b.names.fresh("cumulative_body"))),
        attr.int("num_scan_inputs", ins.length),
        attr.ints(
          "scan_input_directions",
          ins.map(() => direction),
        ),
        attr.ints("scan_output_directions", [direction]),
      ],
      2,
    );
    return [b.cast(b.op("Transpose", [ys!], [attr.ints("perm", inverse)]), dtype, outAvals[0]!.dtype)];
  };

/** The most negative value of a dtype (the identity of max). */
const lowest = (dtype: DType): number => (dtype === "int32" ? -(2 ** 31) : -Infinity);

/** log(e^a + e^b) with the larger exponent taken out; two −∞ give −∞ (not NaN). */
const logAddExp: Combine = (b, c, [x], dtype) => {
  const m = b.op("Max", [c, x!]);
  const infinite = b.op("Equal", [m, b.scalar(-Infinity, dtype)]);
  const shift = b.op("Where", [infinite, b.scalar(0, dtype), m]);
  const sum = b.op("Add", [b.op("Exp", [b.op("Sub", [c, shift])]), b.op("Exp", [b.op("Sub", [x!, shift])])]);
  return b.op("Add", [shift, b.op("Log", [sum])]);
};

/** The cumulative primitives lowered as Scans. */
export const cumulativeLowerings: PartialTable<"cumprod" | "cummax" | "cummin" | "logcumsumexp" | "linearScan"> = {
  cumprod: recurrence(
    () => 1,
    (b, c, [x]) => b.op("Mul", [c, x!]),
  ),
  cummax: recurrence(lowest, (b, c, [x]) => b.op("Max", [c, x!])),
  cummin: recurrence(
    (dtype) => -lowest(dtype) - (dtype === "int32" ? 1 : 0),
    (b, c, [x]) => b.op("Min", [c, x!]),
  ),
  logcumsumexp: recurrence(() => -Infinity, logAddExp),
  // h_t = a_t · h_{t−1} + b_t from h_{−1} = 0
  linearScan: recurrence(
    () => 0,
    (b, c, [a, x]) => b.op("Add", [b.op("Mul", [a!, c]), x!]),
  ),
};
