/**
 * @file Lowerings of the reductions and `cumsum` (ONNX CumSum). At opset 17 `ReduceSum` takes its axes as an
 * input and the other reductions as an attribute; Rewind's reductions never keep the reduced axes.
 */
import { attr } from "../builder.js";
import type { Lowering, PartialTable } from "../types.js";
import type { AxesParams, AxisParams } from "@rewind/autodiff";

/** ReduceMax/Min/Prod: axes as an attribute (opset 17). No axes reduces nothing, as in Rewind. */
const reduceAttr =
  (op: string): Lowering<AxesParams> =>
  ({ b, ins }, { axes }) =>
    axes.length === 0
      ? [b.op("Identity", [ins[0]!])]
      : [b.op(op, [ins[0]!], [attr.ints("axes", axes), attr.int("keepdims", 0)])];

/** ArgMax/ArgMin: the first index of the extreme (ONNX's default), int64 cast to Rewind's int32. */
const arg =
  (op: string): Lowering<AxisParams> =>
  ({ b, ins }, { axis }) => [
    b.cast(b.op(op, [ins[0]!], [attr.int("axis", axis), attr.int("keepdims", 0)]), "int64", "int32"),
  ];

/** The reductions' lowerings. */
export const reduceLowerings: PartialTable<
  "sum" | "reduceMax" | "reduceMin" | "prod" | "argmax" | "argmin" | "cumsum"
> = {
  sum: ({ b, ins }, { axes }) =>
    axes.length === 0
      ? [b.op("Identity", [ins[0]!])]
      : [b.op("ReduceSum", [ins[0]!, b.int64(axes)], [attr.int("keepdims", 0)])],
  reduceMax: reduceAttr("ReduceMax"),
  reduceMin: reduceAttr("ReduceMin"),
  prod: reduceAttr("ReduceProd"),
  argmax: arg("ArgMax"),
  argmin: arg("ArgMin"),
  cumsum: ({ b, ins }, { axis, reverse }) => [
    b.op("CumSum", [ins[0]!, b.int64([axis], [])], [attr.int("reverse", reverse ? 1 : 0)]),
  ],
};
