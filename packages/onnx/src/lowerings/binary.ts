/**
 * @file Lowerings of the elementwise binary primitives and `select`. Rewind's binary primitives
 * take operands of one shape and dtype (the ops layer broadcasts and promotes explicitly), so each
 * maps to one ONNX operator; the logical ones first read their operands as bools, as Rewind does.
 */
import type { DType } from "@rewind/tensor";
import { exportFail } from "../errors.js";
import type { Lowering, PartialTable } from "../types.js";

/** A one-operator binary lowering. */
const simple =
  (op: string): Lowering<void> =>
  ({ b, ins }) => [b.op(op, [ins[0]!, ins[1]!])];

/** A logical operator on operands read as bools (nonzero → true). */
const logical =
  (op: string): Lowering<void> =>
  ({ b, ins, inAvals }) => {
    const dtype: DType = inAvals[0]!.dtype;
    return [b.op(op, [b.cast(ins[0]!, dtype, "bool"), b.cast(ins[1]!, dtype, "bool")])];
  };

/** The binary primitives' lowerings. */
export const binaryLowerings: PartialTable<
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "equal"
  | "notEqual"
  | "less"
  | "lessEqual"
  | "greater"
  | "greaterEqual"
  | "logicalAnd"
  | "logicalOr"
  | "select"
> = {
  add: simple("Add"),
  sub: simple("Sub"),
  mul: simple("Mul"),
  div: ({ b, ins, inAvals }) => {
    // ONNX's integer Div truncates; Rewind's div is true division, which the ops layer only
    // ever applies to floats.
    if (inAvals[0]!.dtype === "int32")
      exportFail("f", "div of two int32 operands", 'convert the operands to a float first (astype(x, "float32"))');
    return [b.op("Div", [ins[0]!, ins[1]!])];
  },
  pow: simple("Pow"),
  maximum: simple("Max"),
  minimum: simple("Min"),
  equal: simple("Equal"),
  notEqual: ({ b, ins }) => [b.op("Not", [b.op("Equal", [ins[0]!, ins[1]!])])],
  less: simple("Less"),
  lessEqual: simple("LessOrEqual"),
  greater: simple("Greater"),
  greaterEqual: simple("GreaterOrEqual"),
  logicalAnd: logical("And"),
  logicalOr: logical("Or"),
  select: ({ b, ins, inAvals }) => {
    // ONNX Runtime has no bool Where: bool branches go through int32.
    if (inAvals[1]!.dtype !== "bool") return [b.op("Where", [ins[0]!, ins[1]!, ins[2]!])];
    const [x, y] = [b.cast(ins[1]!, "bool", "int32"), b.cast(ins[2]!, "bool", "int32")];
    return [b.cast(b.op("Where", [ins[0]!, x, y]), "int32", "bool")];
  },
};
